"""The status read model's queries: every row the document shows, and its fingerprint.

Read-only, scoped to one tenant (the refreshed country requirements, which are global, are
read through `compliance.repository.RequirementRepository`). The three per-store scans return
Core rows, not ORM objects: a large tenant has thousands of stores and this is the most-read
document of the service, so they run on the session's connection, past the ORM.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Select, func, select

from clienteling_setup.compliance.models import (
    BundleRecord,
    CountryRequirement,
    TrustProductRecord,
)
from clienteling_setup.db.repository import TenantScoped
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.models import OptInTemplate, Tenant, TenantDisabling
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

#: The tenant's tables the document is built from (each with `tenant_id` and `updated_at`).
_PER_TENANT = (Store, StoreOnboarding, WhatsAppSenderRecord, BundleRecord, TrustProductRecord)


class StatusRepository(TenantScoped):
    def tenant(self) -> Tenant | None:
        return self.session.get(Tenant, self.tenant_id)

    def opt_in(self) -> OptInTemplate | None:
        return self.session.get(OptInTemplate, self.tenant_id)

    def disabling(self) -> TenantDisabling | None:
        return self.session.get(TenantDisabling, self.tenant_id)

    def stores(self) -> list[tuple[str, str, str]]:
        """(id, name, country_code) of every store, by id."""
        query = (
            select(Store.id, Store.name, Store.country_code)
            .where(Store.tenant_id == self.tenant_id)
            .order_by(Store.id)
        )
        return self._driver_rows(query)

    def onboardings(self) -> list[tuple[str, str, str]]:
        """(store_id, phone_number, status) of every SMS onboarding."""
        query = select(
            StoreOnboarding.store_id, StoreOnboarding.phone_number, StoreOnboarding.status
        ).where(StoreOnboarding.tenant_id == self.tenant_id)
        return self._driver_rows(query)

    def _driver_rows(self, query: Select[*tuple[Any, ...]]) -> list[Any]:
        """The rows of `query` as the database driver returns them: plain tuples, on the
        session's connection (its transaction), without a SQLAlchemy `Row` and its result
        processing per row, which cost a third of a 10,000-store scan. Only for columns that
        need no processing (strings)."""
        connection = self.session.connection()
        compiled = query.compile(dialect=connection.dialect)
        params: Any = compiled.params
        if compiled.positional:
            params = tuple(params[name] for name in compiled.positiontup or ())
        cursor = connection.connection.cursor()
        try:
            cursor.execute(str(compiled), params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def senders(
        self,
    ) -> list[tuple[str, str | None, str, str, str | None, str | None, list[str] | None, str]]:
        """(store_id, sid, status, waba, quality rating, messaging limit, offline reasons,
        phone number) of every WhatsApp sender."""
        query = select(
            WhatsAppSenderRecord.store_id,
            WhatsAppSenderRecord.sender_sid,
            WhatsAppSenderRecord.status,
            WhatsAppSenderRecord.waba_id,
            WhatsAppSenderRecord.quality_rating,
            WhatsAppSenderRecord.messaging_limit,
            WhatsAppSenderRecord.offline_reasons,
            WhatsAppSenderRecord.phone_number,
        ).where(WhatsAppSenderRecord.tenant_id == self.tenant_id)
        # The JSON column arrives as text from SQLite and decoded from psycopg: decoded here,
        # only where there is something to decode (most senders have no offline reasons).
        return [
            row if not isinstance(row[6], str) else (*row[:6], orjson.loads(row[6]), row[7])
            for row in self._driver_rows(query)
        ]

    def bundles(self) -> list[BundleRecord]:
        return list(
            self.session.scalars(
                select(BundleRecord).where(BundleRecord.tenant_id == self.tenant_id)
            )
        )

    def trust_products(self) -> list[TrustProductRecord]:
        return list(
            self.session.scalars(
                select(TrustProductRecord).where(TrustProductRecord.tenant_id == self.tenant_id)
            )
        )

    def fingerprint(self) -> tuple[Any, ...]:
        """(count, newest `updated_at`) of each of the tenant's tables the document shows, the
        configuration's, opt-in template's and disabling's `updated_at`, and (count, newest)
        of the refreshed requirements: it changes whenever the document could (see
        `status.cache`). One query."""
        columns: list[Any] = []
        for model in _PER_TENANT:
            mine = model.tenant_id == self.tenant_id
            columns.append(select(func.count()).select_from(model).where(mine).scalar_subquery())
            columns.append(select(func.max(model.updated_at)).where(mine).scalar_subquery())
        columns.append(
            select(Tenant.updated_at).where(Tenant.id == self.tenant_id).scalar_subquery()
        )
        columns.append(
            select(OptInTemplate.updated_at)
            .where(OptInTemplate.tenant_id == self.tenant_id)
            .scalar_subquery()
        )
        columns.append(
            select(TenantDisabling.updated_at)
            .where(TenantDisabling.tenant_id == self.tenant_id)
            .scalar_subquery()
        )
        columns.append(select(func.count()).select_from(CountryRequirement).scalar_subquery())
        columns.append(select(func.max(CountryRequirement.refreshed_at)).scalar_subquery())
        return tuple(self.session.execute(select(*columns)).one())
