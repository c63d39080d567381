"""The base of the tenant-scoped repositories.

A repository is built with the session and the tenant of its unit of work, and every query it
runs is filtered by that tenant (see `unit_of_work`). `TenantScoped` holds the two;
`TenantScopedRepository[M]` adds what every repository of one model repeats: a row by primary
key (the tenant, then the rest of the key), adding a row for the tenant, deleting one of its
rows, and the tenant's rows that meet some conditions.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from clienteling_setup.db.base import TenantOwned

M = TypeVar("M", bound=TenantOwned)


class TenantScoped:
    """The session and the tenant a repository reads and writes for."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id


class TenantScopedRepository(TenantScoped, Generic[M]):
    """The tenant's rows of `model`, which each subclass names."""

    model: type[M]

    def get(self, *key: str) -> M | None:
        """The row whose primary key is the tenant followed by `key`."""
        return self.session.get(self.model, (self.tenant_id, *key))

    def add(self, row: M) -> M:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row

    def delete(self, row: M) -> None:
        if row.tenant_id == self.tenant_id:
            self.session.delete(row)

    def _mine(self, *where: ColumnElement[bool]) -> ColumnElement[bool]:
        """The condition: a row of the tenant that meets every condition of `where`."""
        return and_(self.model.tenant_id == self.tenant_id, *where)

    def _select(self, *where: ColumnElement[bool]) -> Select[M]:
        return select(self.model).where(self._mine(*where))

    def _one(self, *where: ColumnElement[bool]) -> M | None:
        return self.session.scalar(self._select(*where))

    def _all(self, *where: ColumnElement[bool]) -> list[M]:
        return list(self.session.scalars(self._select(*where)))

    def _count(self, *where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(self.model).where(self._mine(*where))
        return int(self.session.scalar(query) or 0)
