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
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    LargeBinary,
    Select,
    String,
    any_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration, BusinessProfile
from clienteling_setup.compliance.models import (
    BundleRecord,
    CountryRequirement,
    TrustProductRecord,
)
from clienteling_setup.db.repository import DriverQuery, DriverUpsert, TenantScoped
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

#: The tenant's tables the document is built from (each with `tenant_id` and `updated_at`):
#: first those of the stores' entries, then the rest.
_STORE_TABLES = (Store, StoreOnboarding, WhatsAppSenderRecord)
_PER_TENANT = (
    *_STORE_TABLES,
    BundleRecord,
    TrustProductRecord,
    A2PRegistration,
    A2PCampaignRecord,
    BusinessProfile,
)
#: The fingerprint's first figures: (count, newest change) of each of `_STORE_TABLES`.
_STORE_TERMS = 2 * len(_STORE_TABLES)


def _sms_status() -> ColumnElement[str]:
    """The onboarding's status as the status document shows it: an onboarded US store whose
    Messaging Service has no VERIFIED A2P 10DLC campaign is ``registration_pending`` (its number
    is ready; US carriers block its texts until the campaign is verified)."""
    us_store = (
        select(literal(1))
        .where(
            Store.tenant_id == StoreOnboarding.tenant_id,
            Store.id == StoreOnboarding.store_id,
            Store.country_code == "US",
        )
        .exists()
    )
    verified = (
        select(literal(1))
        .where(
            A2PCampaignRecord.tenant_id == StoreOnboarding.tenant_id,
            A2PCampaignRecord.messaging_service_sid == StoreOnboarding.messaging_service_sid,
            A2PCampaignRecord.status == "VERIFIED",
        )
        .exists()
    )
    return case(
        (
            (StoreOnboarding.status == "onboarded") & us_store & ~verified,
            literal("registration_pending"),
        ),
        else_=StoreOnboarding.status,
    )


#: A stored entry: (store_id, country_code, onboarded for SMS, the entry serialised).
FragmentRow = tuple[str, str, bool, bytes]

_WRITE_FRAGMENTS = DriverUpsert(
    StoreFragment,
    ("store_id", "country_code", "sms_onboarded", "fragment"),
    constants=("tenant_id",),
    key=("tenant_id", "store_id"),
    changing=("country_code", "sms_onboarded", "fragment"),
)

#: A channel's last error as the database holds it: (message, when (a datetime, or the text
#: SQLite stores), request id).
ErrorColumns = tuple[str | None, Any, str | None]

#: (store_id, phone number, status, *ErrorColumns) of an SMS onboarding.
OnboardingRow = tuple[str, str, str, str | None, Any, str | None]

#: (store_id, sid, status, waba, quality rating, messaging limit, offline reasons, phone
#: number, *ErrorColumns) of a WhatsApp sender.
SenderRow = tuple[
    str,
    str | None,
    str,
    str,
    str | None,
    str | None,
    list[str] | None,
    str,
    str | None,
    Any,
    str | None,
]


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
    def configuration(
        self,
    ) -> tuple[Tenant | None, OptInTemplate | None, TenantDisabling | None]:
        """The tenant's configuration, opt-in template and disabling, each None if absent:
        one round trip (each is one row or none), not three."""
        me = select(literal(self.tenant_id).label("id")).subquery()
        query = (
            select(Tenant, OptInTemplate, TenantDisabling)
            .select_from(me)
            .outerjoin(Tenant, Tenant.id == me.c.id)
            .outerjoin(OptInTemplate, OptInTemplate.tenant_id == me.c.id)
            .outerjoin(TenantDisabling, TenantDisabling.tenant_id == me.c.id)
        )
        tenant, opt_in, disabling = self.session.execute(query).one()
        return tenant, opt_in, disabling

    def orphan_view(self) -> tuple[int, list[Orphan]]:
        """How many numbers the account owns (as last listed), and the orphans among them."""
        orphans = OrphanRepository(self.session, self.tenant_id)
        return orphans.owned_count(), orphans.orphans()

    def stores(self) -> list[tuple[str, str, str]]:
        """(id, name, country_code) of every store, by id."""
        return _STORES.rows(self.session, self._mine)

    def onboardings(self) -> list[OnboardingRow]:
        """`OnboardingRow` of every SMS onboarding."""
        return _ONBOARDINGS.rows(self.session, self._mine)

    @property
    def _mine(self) -> dict[str, str]:
        """The parameters of the driver's queries below."""
        return {"tenant": self.tenant_id}

    def senders(self) -> list[SenderRow]:
        """`SenderRow` of every WhatsApp sender."""
        # The JSON column arrives as text from SQLite and decoded from psycopg: decoded here,
        # only where there is something to decode (most senders have no offline reasons).
        return [
            row if not isinstance(row[6], str) else (*row[:6], orjson.loads(row[6]), *row[7:])
            for row in _SENDERS.rows(self.session, self._mine)
        ]

    def _senders_query(self) -> Select[*tuple[Any, ...]]:
        return _senders().where(WhatsAppSenderRecord.tenant_id == self.tenant_id)

    # -- a few stores' rows, to rebuild their entries (`status.fragments.refresh`) -----------
    def lock_stores(self, store_ids: Collection[str] | None) -> None:
        """Lock these stores' rows (None: all the tenant's) until the transaction ends
        (PostgreSQL; SQLite's transactions are serialised already), so that writers of one
        store's entry take turns."""
        query = select(Store.id).where(Store.tenant_id == self.tenant_id)
        if store_ids is not None:
            query = query.where(self._among(Store.id, store_ids))
        self.session.execute(query.order_by(Store.id).with_for_update()).all()

    def has_channels(self) -> bool:
        """Whether any store of the tenant has an SMS onboarding or a WhatsApp sender (two
        index probes): an import into a directory with none looks no store's up."""
        onboarding = select(StoreOnboarding.store_id).where(
            StoreOnboarding.tenant_id == self.tenant_id
        )
        sender = select(WhatsAppSenderRecord.store_id).where(
            WhatsAppSenderRecord.tenant_id == self.tenant_id
        )
        return bool(self.session.scalar(select(or_(onboarding.exists(), sender.exists()))))

    def stores_among(self, store_ids: Collection[str]) -> list[tuple[str, str, str]]:
        """(id, name, country_code) of those of `store_ids` that exist."""
        query = select(Store.id, Store.name, Store.country_code).where(
            Store.tenant_id == self.tenant_id, self._among(Store.id, store_ids)
        )
        return [tuple(row) for row in self.session.execute(query)]  # type: ignore[misc]

    def onboardings_among(self, store_ids: Collection[str]) -> list[OnboardingRow]:
        """`OnboardingRow` of these stores' SMS onboardings."""
        query = _onboardings().where(
            StoreOnboarding.tenant_id == self.tenant_id,
            self._among(StoreOnboarding.store_id, store_ids),
        )
        return [tuple(row) for row in self.session.execute(query)]

    def senders_among(self, store_ids: Collection[str]) -> list[SenderRow]:
        """`SenderRow` of these stores' WhatsApp senders."""
        query = self._senders_query().where(self._among(WhatsAppSenderRecord.store_id, store_ids))
        return [tuple(row) for row in self.session.execute(query)]

    def _among(self, column: Any, store_ids: Collection[str]) -> ColumnElement[bool]:
        """`column` is one of `store_ids`: on PostgreSQL one array parameter (`= ANY`), not
        an IN list of a parameter per store, which costs a hundred times more at 1,000 stores
        (an import's chunk)."""
        if self.session.get_bind().dialect.name == "sqlite":
            return column.in_(store_ids)  # type: ignore[no-any-return]
        ids = bindparam(None, list(store_ids), type_=ARRAY(String))
        return column == any_(ids)  # type: ignore[no-any-return]

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
        driver (on PostgreSQL in the binary format: the bytes as they are stored)."""
        return [row[0] for row in _FRAGMENTS.rows(self.session, self._mine, binary=True)]

    def stores_array(self) -> bytes:
        """Every stored entry joined with commas, by store id: the contents of the document's
        `stores` array, concatenated by the database and read as one value (one row through
        the driver, not one per store: at 10,000 stores the rows cost more than the bytes).

        The entries come from a subquery ordered by store id, which both databases aggregate
        in its order (SQLite before 3.44 has no ORDER BY inside an aggregate; PostgreSQL's
        sorts again, in the column's collation, several times the cost of the scan). On
        PostgreSQL the planner is told not to sort for it: walking the primary key gives the
        order for free, but with a tenant that is most of the table it prefers a scan and a
        sort, 30 ms at 10,000 stores in a `C.UTF-8` database against 4 ms."""
        if self.session.get_bind().dialect.name == "sqlite":
            rows = _STORES_ARRAY_SQLITE.rows(self.session, self._mine)
        else:
            connection = self.session.connection()
            # Local to the transaction and put back at once: only this query is planned so
            # (should it fail, the transaction's rollback puts it back).
            was = connection.exec_driver_sql(_NO_SORT).scalar_one()
            rows = _STORES_ARRAY_POSTGRESQL.rows(self.session, self._mine, binary=True)
            connection.exec_driver_sql(_SORT_AGAIN, (was,))
        return bytes(rows[0][0] or b"")

    def fragment_counts(self) -> list[tuple[str, int, int]]:
        """(country_code, stores, stores onboarded for SMS) per country, from the stored
        entries: the country summaries' counts, aggregated by the database."""
        rows = _FRAGMENT_COUNTS.rows(self.session, self._mine)
        return [(cc, int(n), int(done or 0)) for cc, n, done in rows]

    def write_fragments(self, rows: Sequence[FragmentRow]) -> None:
        """Insert or replace entries; an entry that holds those values already is left as it
        is. Through the driver: an import writes a thousand at a time."""
        _WRITE_FRAGMENTS.run(self.session, rows, {"tenant_id": self.tenant_id})

    def delete_fragments(self, store_ids: Collection[str]) -> None:
        self.session.connection().execute(
            delete(StoreFragment).where(
                StoreFragment.tenant_id == self.tenant_id,
                self._among(StoreFragment.store_id, store_ids),
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

    def a2p(self) -> tuple[A2PRegistration | None, list[A2PCampaignRecord], bool]:
        """The US A2P 10DLC registration, its campaigns, and whether a business profile
        exists."""
        registration = self.session.get(A2PRegistration, self.tenant_id)
        campaigns = list(
            self.session.scalars(
                select(A2PCampaignRecord).where(A2PCampaignRecord.tenant_id == self.tenant_id)
            )
        )
        profile = self.session.scalar(
            select(literal(1)).where(BusinessProfile.tenant_id == self.tenant_id)
        )
        return registration, campaigns, profile is not None

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
        `status.cache`). One query, through the driver: the timestamps come as the database
        gives them, to compare with the next fingerprint only."""
        found = tuple(_FINGERPRINT.rows(self.session, self._mine)[0])
        self.last_fingerprint = found
        return found

    #: The fingerprint this repository read last (its first figure is the store count).
    last_fingerprint: tuple[Any, ...] | None = None

    def beyond_stores(self) -> tuple[Any, ...]:
        """The figures of the fingerprint just read that are not about the stores' own rows
        (stores, SMS onboardings, WhatsApp senders): what the document's head and tail are
        built from, besides the per-country store counts. A write to a store leaves them."""
        if self.last_fingerprint is None:
            self.fingerprint()
        assert self.last_fingerprint is not None
        return self.last_fingerprint[_STORE_TERMS:]

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


# -- the driver's queries of a tenant's rows (`db.repository`), compiled once ----------------------
_TENANT: BindParameter[str] = bindparam("tenant")


def _senders() -> Select[*tuple[Any, ...]]:
    return select(
        WhatsAppSenderRecord.store_id,
        WhatsAppSenderRecord.sender_sid,
        WhatsAppSenderRecord.status,
        WhatsAppSenderRecord.waba_id,
        WhatsAppSenderRecord.quality_rating,
        WhatsAppSenderRecord.messaging_limit,
        WhatsAppSenderRecord.offline_reasons,
        WhatsAppSenderRecord.phone_number,
        WhatsAppSenderRecord.last_error,
        WhatsAppSenderRecord.last_error_at,
        WhatsAppSenderRecord.last_error_request_id,
    )


def _onboardings() -> Select[*tuple[Any, ...]]:
    return select(
        StoreOnboarding.store_id,
        StoreOnboarding.phone_number,
        _sms_status(),
        StoreOnboarding.last_error,
        StoreOnboarding.last_error_at,
        StoreOnboarding.last_error_request_id,
    )


def _fingerprint() -> Select[*tuple[Any, ...]]:
    columns: list[Any] = []
    for model in _PER_TENANT:
        mine = model.tenant_id == _TENANT
        columns.append(select(func.count()).select_from(model).where(mine).scalar_subquery())
        columns.append(select(func.max(model.updated_at)).where(mine).scalar_subquery())
    for column, key in (
        (Tenant.updated_at, Tenant.id),
        (OptInTemplate.updated_at, OptInTemplate.tenant_id),
        (TenantDisabling.updated_at, TenantDisabling.tenant_id),
    ):
        columns.append(select(column).where(key == _TENANT).scalar_subquery())
    # The numbers: what the last listing recorded (a release drops its record) and the claims,
    # each (count, newest change); what else may hold a number (an offboarding's newest
    # change, the job items still working); the ledger's newest entry (the purchase price an
    # orphan is shown with). An orphan is decided against all of them.
    for tenant, stamp in (
        (OwnedNumberRecord.tenant_id, OwnedNumberRecord.updated_at),
        (NumberClaim.tenant_id, NumberClaim.created_at),
    ):
        columns.append(select(func.count(stamp)).where(tenant == _TENANT).scalar_subquery())
        columns.append(select(func.max(stamp)).where(tenant == _TENANT).scalar_subquery())
    for tenant, stamp in (
        (StoreOffboarding.tenant_id, StoreOffboarding.updated_at),
        (LedgerEntry.tenant_id, LedgerEntry.recorded_at),
    ):
        columns.append(select(func.max(stamp)).where(tenant == _TENANT).scalar_subquery())
    item = OnboardingJobItem
    columns.append(
        select(func.count())
        .select_from(item)
        # Spelled out, not `in_`: an expanding IN is not compiled once for the driver.
        .where(or_(*(item.state == state for state in WORKING)), item.tenant_id == _TENANT)
        .scalar_subquery()
    )
    columns.append(select(func.count()).select_from(CountryRequirement).scalar_subquery())
    columns.append(select(func.max(CountryRequirement.refreshed_at)).scalar_subquery())
    return select(*columns)


_STORES = DriverQuery(
    select(Store.id, Store.name, Store.country_code)
    .where(Store.tenant_id == _TENANT)
    .order_by(Store.id)
)
_ONBOARDINGS = DriverQuery(_onboardings().where(StoreOnboarding.tenant_id == _TENANT))
_SENDERS = DriverQuery(_senders().where(WhatsAppSenderRecord.tenant_id == _TENANT))
_FRAGMENTS = DriverQuery(
    select(StoreFragment.fragment)
    .where(StoreFragment.tenant_id == _TENANT)
    .order_by(StoreFragment.store_id)
)
_ORDERED_FRAGMENTS = (
    select(StoreFragment.fragment)
    .where(StoreFragment.tenant_id == _TENANT)
    .order_by(StoreFragment.store_id)
    .subquery()
)
_STORES_ARRAY_SQLITE = DriverQuery(
    select(cast(func.group_concat(_ORDERED_FRAGMENTS.c.fragment, ","), LargeBinary))
)
_STORES_ARRAY_POSTGRESQL = DriverQuery(
    select(func.string_agg(_ORDERED_FRAGMENTS.c.fragment, literal_column("'\\x2c'::bytea")))
)
_NO_SORT = "SELECT current_setting('enable_sort'), set_config('enable_sort', 'off', true)"
_SORT_AGAIN = "SELECT set_config('enable_sort', %s, true)"
_FRAGMENT_COUNTS = DriverQuery(
    select(
        StoreFragment.country_code,
        func.count(),
        func.sum(case((StoreFragment.sms_onboarded, 1), else_=0)),
    )
    .where(StoreFragment.tenant_id == _TENANT)
    .group_by(StoreFragment.country_code)
)
_FINGERPRINT = DriverQuery(_fingerprint())
