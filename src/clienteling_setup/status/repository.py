"""The status read model's queries: every row the document shows, its fingerprint, and the
stored per-store entries (`status.fragments`).

Scoped to one tenant (the refreshed country requirements, which are global, are read through
`compliance.repository.RequirementRepository`). The per-store scans return Core rows, not ORM
objects: a large tenant has thousands of stores and this is the most-read document of the
service, so they run on the session's connection, past the ORM. The only writes are the
stored entries', in the transaction of the write that changed their stores.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, case, delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from clienteling_setup.compliance.models import (
    BundleRecord,
    CountryRequirement,
    TrustProductRecord,
)
from clienteling_setup.db.repository import TenantScoped
from clienteling_setup.jobs.models import OnboardingJob, OnboardingJobItem
from clienteling_setup.ledger.models import LedgerEntry
from clienteling_setup.numbers.models import NumberClaim, OwnedNumberRecord
from clienteling_setup.offboarding.models import StoreOffboarding
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.orphans.repository import WORKING, Orphan, OrphanRepository
from clienteling_setup.status.models import StoreFragment
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.models import OptInTemplate, Reconciliation, Tenant, TenantDisabling
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

#: The tenant's tables the document is built from (each with `tenant_id` and `updated_at`).
_PER_TENANT = (Store, StoreOnboarding, WhatsAppSenderRecord, BundleRecord, TrustProductRecord)

#: (store_id, sid, status, waba, quality rating, messaging limit, offline reasons, phone
#: number) of a WhatsApp sender.
SenderRow = tuple[str, str | None, str, str, str | None, str | None, list[str] | None, str]


def stores_a_statement_changes(
    session: Session,
    model: type[Store | StoreOnboarding | WhatsAppSenderRecord],
    where: ColumnElement[bool] | None,
) -> list[tuple[str, str]]:
    """(tenant, store) of the rows of `model` that an UPDATE or DELETE with `where` is about
    to change, read before it runs (across tenants: the statement says which it touches)."""
    table = model.__table__.c
    key = table.id if model is Store else table.store_id
    query = select(table.tenant_id, key)
    if where is not None:
        query = query.where(where)
    return [(tenant, store) for tenant, store in session.execute(query)]


class StatusRepository(TenantScoped):
    def tenant(self) -> Tenant | None:
        return self.session.get(Tenant, self.tenant_id)

    def opt_in(self) -> OptInTemplate | None:
        return self.session.get(OptInTemplate, self.tenant_id)

    def disabling(self) -> TenantDisabling | None:
        return self.session.get(TenantDisabling, self.tenant_id)

    def orphan_view(self) -> tuple[int, list[Orphan]]:
        """How many numbers the account owns (as last listed), and the orphans among them."""
        orphans = OrphanRepository(self.session, self.tenant_id)
        return orphans.owned_count(), orphans.orphans()

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

    def senders(self) -> list[SenderRow]:
        """`SenderRow` of every WhatsApp sender."""
        # The JSON column arrives as text from SQLite and decoded from psycopg: decoded here,
        # only where there is something to decode (most senders have no offline reasons).
        return [
            row if not isinstance(row[6], str) else (*row[:6], orjson.loads(row[6]), row[7])
            for row in self._driver_rows(self._senders_query())
        ]

    def _senders_query(self) -> Select[*tuple[Any, ...]]:
        return select(
            WhatsAppSenderRecord.store_id,
            WhatsAppSenderRecord.sender_sid,
            WhatsAppSenderRecord.status,
            WhatsAppSenderRecord.waba_id,
            WhatsAppSenderRecord.quality_rating,
            WhatsAppSenderRecord.messaging_limit,
            WhatsAppSenderRecord.offline_reasons,
            WhatsAppSenderRecord.phone_number,
        ).where(WhatsAppSenderRecord.tenant_id == self.tenant_id)

    # -- a few stores' rows, to rebuild their entries (`status.fragments.refresh`) -----------
    def lock_stores(self, store_ids: Collection[str] | None) -> None:
        """Lock these stores' rows (None: all the tenant's) until the transaction ends
        (PostgreSQL; SQLite's transactions are serialised already), so that writers of one
        store's entry take turns."""
        query = select(Store.id).where(Store.tenant_id == self.tenant_id)
        if store_ids is not None:
            query = query.where(Store.id.in_(store_ids))
        self.session.execute(query.order_by(Store.id).with_for_update()).all()

    def stores_among(self, store_ids: Collection[str]) -> list[tuple[str, str, str]]:
        """(id, name, country_code) of those of `store_ids` that exist."""
        query = select(Store.id, Store.name, Store.country_code).where(
            Store.tenant_id == self.tenant_id, Store.id.in_(store_ids)
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def onboardings_among(self, store_ids: Collection[str]) -> list[tuple[str, str, str]]:
        """(store_id, phone_number, status) of these stores' SMS onboardings."""
        query = select(
            StoreOnboarding.store_id, StoreOnboarding.phone_number, StoreOnboarding.status
        ).where(
            StoreOnboarding.tenant_id == self.tenant_id, StoreOnboarding.store_id.in_(store_ids)
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def senders_among(self, store_ids: Collection[str]) -> list[SenderRow]:
        """`SenderRow` of these stores' WhatsApp senders."""
        query = self._senders_query().where(WhatsAppSenderRecord.store_id.in_(store_ids))
        return [tuple(row) for row in self.session.execute(query)]

    # -- the stored entries ----------------------------------------------------------------
    def store_count(self) -> int:
        query = select(func.count()).select_from(Store).where(Store.tenant_id == self.tenant_id)
        return int(self.session.scalar(query) or 0)

    def fragment_count(self) -> int:
        query = (
            select(func.count())
            .select_from(StoreFragment)
            .where(StoreFragment.tenant_id == self.tenant_id)
        )
        return int(self.session.scalar(query) or 0)

    def fragments(self) -> list[bytes]:
        """Every stored entry (serialised), by store id: one scan of one table, through the
        driver."""
        query = (
            select(StoreFragment.fragment)
            .where(StoreFragment.tenant_id == self.tenant_id)
            .order_by(StoreFragment.store_id)
        )
        return [row[0] for row in self._driver_rows(query)]

    def fragment_counts(self) -> list[tuple[str, int, int]]:
        """(country_code, stores, stores onboarded for SMS) per country, from the stored
        entries: the country summaries' counts, aggregated by the database."""
        onboarded = func.sum(case((StoreFragment.sms_onboarded, 1), else_=0))
        query = (
            select(StoreFragment.country_code, func.count(), onboarded)
            .where(StoreFragment.tenant_id == self.tenant_id)
            .group_by(StoreFragment.country_code)
        )
        return [(cc, int(n), int(done or 0)) for cc, n, done in self.session.execute(query)]

    def write_fragments(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert or replace entries (each row: store_id, country_code, sms_onboarded,
        fragment); an entry that holds those values already is left as it is."""
        if not rows:
            return
        dialect = self.session.get_bind().dialect.name
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = insert(StoreFragment)
        new = statement.excluded
        table = StoreFragment.__table__.c
        changing = ("country_code", "sms_onboarded", "fragment")
        statement = statement.on_conflict_do_update(
            index_elements=[table.tenant_id, table.store_id],
            set_={c: new[c] for c in changing},
            where=or_(*(table[c].is_distinct_from(new[c]) for c in changing)),
        )
        mine = {"tenant_id": self.tenant_id}
        self.session.connection().execute(statement, [{**row, **mine} for row in rows])

    def delete_fragments(self, store_ids: Collection[str]) -> None:
        self.session.connection().execute(
            delete(StoreFragment).where(
                StoreFragment.tenant_id == self.tenant_id, StoreFragment.store_id.in_(store_ids)
            )
        )

    def delete_fragments_except(self, store_ids: Collection[str]) -> None:
        """Remove the tenant's entries of every store but these (the stores that exist)."""
        keep = set(store_ids)
        stale = [sid for sid in self.session.scalars(self._fragment_ids()) if sid not in keep]
        for start in range(0, len(stale), 500):
            self.delete_fragments(stale[start : start + 500])

    def _fragment_ids(self) -> Select[str]:
        return select(StoreFragment.store_id).where(StoreFragment.tenant_id == self.tenant_id)

    def stores_without_fragment(self) -> list[str]:
        query = select(Store.id).where(
            Store.tenant_id == self.tenant_id,
            ~select(StoreFragment.store_id)
            .where(StoreFragment.tenant_id == Store.tenant_id, StoreFragment.store_id == Store.id)
            .exists(),
        )
        return list(self.session.scalars(query))

    def fragments_without_store(self) -> list[str]:
        query = select(StoreFragment.store_id).where(
            StoreFragment.tenant_id == self.tenant_id,
            ~select(Store.id)
            .where(Store.tenant_id == StoreFragment.tenant_id, Store.id == StoreFragment.store_id)
            .exists(),
        )
        return list(self.session.scalars(query))

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
        # The numbers: what the last listing recorded (a release drops its record) and the
        # claims, each (count, newest change); what else may hold a number (an offboarding's
        # newest change, the job items still working); the ledger's newest entry (the
        # purchase price an orphan is shown with). An orphan is decided against all of them.
        for tenant, stamp in (
            (OwnedNumberRecord.tenant_id, OwnedNumberRecord.updated_at),
            (NumberClaim.tenant_id, NumberClaim.created_at),
        ):
            mine = tenant == self.tenant_id
            columns.append(select(func.count(stamp)).where(mine).scalar_subquery())
            columns.append(select(func.max(stamp)).where(mine).scalar_subquery())
        for tenant, stamp in (
            (StoreOffboarding.tenant_id, StoreOffboarding.updated_at),
            (LedgerEntry.tenant_id, LedgerEntry.recorded_at),
        ):
            columns.append(
                select(func.max(stamp)).where(tenant == self.tenant_id).scalar_subquery()
            )
        item = OnboardingJobItem
        columns.append(
            select(func.count())
            .select_from(item)
            .where(item.state.in_(WORKING), item.tenant_id == self.tenant_id)
            .scalar_subquery()
        )
        columns.append(select(func.count()).select_from(CountryRequirement).scalar_subquery())
        columns.append(select(func.max(CountryRequirement.refreshed_at)).scalar_subquery())
        found = tuple(self.session.execute(select(*columns)).one())
        self.last_fingerprint = found
        return found

    #: The fingerprint this repository read last (its first figure is the store count).
    last_fingerprint: tuple[Any, ...] | None = None

    def known_store_count(self) -> int:
        """The store count of the fingerprint just read (the cache reads it before every
        build), else counted now."""
        if self.last_fingerprint is not None:
            return int(self.last_fingerprint[0])
        return self.store_count()

    def last_reconciled(self) -> datetime | None:
        """When the last successful reconciliation of the tenant (or its first compliance read,
        after enabling) began."""
        row = self.session.get(Reconciliation, self.tenant_id)
        return row.succeeded_at if row is not None else None

    def latest_job(self) -> tuple[OnboardingJob, dict[tuple[str, str | None], int]] | None:
        """The tenant's newest bulk onboarding job and its item counts by (state, outcome)."""
        job = self.session.scalar(
            select(OnboardingJob)
            .where(OnboardingJob.tenant_id == self.tenant_id)
            .order_by(OnboardingJob.id.desc())
            .limit(1)
        )
        if job is None:
            return None
        item = OnboardingJobItem
        query = (
            select(item.state, item.outcome, func.count())
            .where(item.tenant_id == self.tenant_id, item.job_id == job.id)
            .group_by(item.state, item.outcome)
        )
        return job, {(state, outcome): int(n) for state, outcome, n in self.session.execute(query)}
