"""Declarative base with a naming convention, so Alembic names constraints predictably."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ClaimTaken(Exception):  # noqa: N818 - it names what happened, like IntegrityError
    """A unique claim is held by someone else (seen before the database had to refuse it)."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class TenantOwned(Base):
    """A table whose rows each belong to one tenant: `tenant_id` leads its primary key (the
    tenant-scoped repositories of `db.repository` read and write it)."""

    __abstract__ = True

    tenant_id: Mapped[str] = mapped_column(String(63), primary_key=True, sort_order=-1)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RequestedBy:
    """Who asked for the work the row records: the token's subject and the request's id. The
    ledger names them for what the work buys, even when a retry or `sync` finishes it."""

    actor: Mapped[str] = mapped_column(String(255), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
