"""The onboarding status document: assembled from the database only, never from Twilio.

Bundles, trust products and senders are kept current by Twilio callbacks and reconciliation;
this module only reads, through `StatusRepository`. The stores' entries, most of the document,
are stored serialised and kept current on write (`status.fragments`): `build_document` has the
database join them into one value and puts it between the head (with the country summaries)
and the tail, the only parts it serialises, and those only when what they show changed.
`build_status` builds the whole document as plain data from the rows; it is the fallback while
stored entries are missing, and the reference the stored ones are tested against, byte for
byte.
`tests/service/test_status_schema.py` holds the document to its declared model,
`status.schemas.OnboardingStatus`, key for key.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Collection
from datetime import datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from typing import Any

import orjson

from clienteling_setup.a2p.service import A2P_MESSAGING_PROFILE_POLICY, chain_facts
from clienteling_setup.compliance.actions import (
    BundleFacts,
    ComplianceItem,
    CountryFacts,
    DocumentFacts,
    TrustProductFacts,
    derive_country_status,
)
from clienteling_setup.compliance.models import BundleRecord
from clienteling_setup.compliance.repository import RequirementRepository
from clienteling_setup.compliance.requirements import effective_rules
from clienteling_setup.db.base import utcnow
from clienteling_setup.jobs.schemas import job_read
from clienteling_setup.jobs.service import job_view
from clienteling_setup.orphans.repository import Orphan
from clienteling_setup.status.cache import StatusCache
from clienteling_setup.status.fragments import (
    NO_WHATSAPP,
    NUMBER_READY,
    SMS_NOT_ONBOARDED,
    SMS_ONBOARDED,
    sms_channel,
    whatsapp_channel,
)
from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.tenants.models import OptInTemplate, Tenant, TenantDisabling
from clienteling_setup.unit_of_work import UnitsOfWork

# Which of several bundles (or trust products) of a country speaks for it: the most advanced.
_RANK = {
    "twilio-approved": 0,
    "provisionally-approved": 1,
    "in-review": 2,
    "pending-review": 3,
    "draft": 4,
    "twilio-rejected": 5,
}


def _best(records: list[Any]) -> Any | None:
    if not records:
        return None
    return min(records, key=lambda r: (_RANK.get(r.status, 9), -r.updated_at.timestamp(), r.sid))


def _country_bundles(records: list[BundleRecord], number_type: str | None) -> list[BundleRecord]:
    """The bundles that can buy the country's SMS number type (a GB local bundle does not
    count for GB mobile numbers); bundles whose type is unknown count too."""
    usable = [r for r in records if r.number_type in (None, number_type)]
    return usable if number_type is not None else records


def _documents(raw: list[dict[str, str | None]]) -> list[DocumentFacts]:
    return [
        DocumentFacts(
            sid=str(d.get("sid")),
            name=str(d.get("name") or ""),
            status=str(d.get("status") or ""),
            created_at=d.get("created_at"),
            updated_at=d.get("updated_at"),
        )
        for d in raw
    ]


def _compliance_read(item: ComplianceItem, id_key: str) -> dict[str, Any]:
    return {
        "required": item.required,
        "status": item.status,
        id_key: item.id,
        "failure_reason": item.failure_reason,
        "uploads": [
            {
                "sid": d.sid,
                "name": d.name,
                "status": d.status,
                "created_at": d.created_at,
                "updated_at": d.updated_at,
            }
            for d in item.uploads
        ],
    }


def _stores(
    status: StatusRepository,
) -> tuple[list[dict[str, Any]], Counter[str], Counter[str]]:
    """Every store with its channels, and the store counts per country.

    Three range scans of the tenant's rows (stores, onboardings, senders) merged in Python:
    cheaper than a join that looks each store up in two indexes. The driver's own tuples for
    the two large scans (no ORM loading, no SQLAlchemy row per store), one dict per store, and
    the channel objects stores have in common are built once per document. Each channel is
    built as `status.fragments` builds the stored entries, which are tested against this.
    """
    numbers: dict[str, str] = {}  # of the stores onboarded for SMS (number ready)
    sms: dict[str, dict[str, Any]] = {}  # of the stores with an onboarding row
    for onboarding in status.onboardings():
        if onboarding[2] in NUMBER_READY:
            numbers[onboarding[0]] = onboarding[1]
        sms[onboarding[0]] = sms_channel(onboarding)
    # Stores without a WhatsApp sender share their channels object (one per SMS state but
    # pending, whose channel is the store's own); those not onboarded at all, most of a large
    # directory, are the default of the look-up below.
    onboarded = {"sms": SMS_ONBOARDED, "whatsapp": NO_WHATSAPP}
    not_onboarded = {"sms": SMS_NOT_ONBOARDED, "whatsapp": NO_WHATSAPP}
    channels: dict[str, dict[str, Any]] = {
        store_id: onboarded
        if channel is SMS_ONBOARDED
        else {"sms": channel, "whatsapp": NO_WHATSAPP}
        for store_id, channel in sms.items()
    }
    for sender in status.senders():
        channels[sender[0]] = {
            "sms": sms.get(sender[0], SMS_NOT_ONBOARDED),
            "whatsapp": whatsapp_channel(sender),
        }

    rows = status.stores()
    per_country = Counter(map(itemgetter(2), rows))
    onboarded_per_country: Counter[str] = Counter()
    stores: list[dict[str, Any]] = []
    append = stores.append
    number_of, channels_of = numbers.get, channels.get
    for store_id, name, cc in rows:
        number = number_of(store_id)  # phone_number is never null
        if number is not None:
            onboarded_per_country[cc] += 1
        append(
            {
                "id": store_id,
                "name": name,
                "country_code": cc,
                "phone_number": number,
                "channels": channels_of(store_id, not_onboarded),
            }
        )
    return stores, per_country, onboarded_per_country


def read_status(uows: UnitsOfWork, cache: StatusCache, tenant_id: str) -> bytes:
    """The tenant's status document, serialised: from `cache` when nothing it shows changed
    since it was built (checked against the database on every call), else built anew."""
    document = read_status_unless(uows, cache, tenant_id, None)[1]
    assert document is not None  # no tag to match: always built
    return document


def read_status_unless(
    uows: UnitsOfWork, cache: StatusCache, tenant_id: str, seen: Collection[str] | None
) -> tuple[str, bytes | None]:
    """The document's entity tag, and the document, unless the tag is among `seen` (the
    request's If-None-Match): then only the tag, from the fingerprint and the fresh keys,
    without touching the document.

    The tag is weak (`W/"..."`): it stands for the document up to the clock-driven figures a
    reader can work out (the reconciliation's lag from `last_succeeded_at`, a job's estimate
    of the time left). The fingerprint is read before the document is built, so a write in
    between can only make the document newer than its tag: the next request with that tag
    then sees another fingerprint and gets the document again, never a stale 304."""
    with uows.of(tenant_id) as uow:
        # The read side goes past the write side's repositories (cosmicpython's views.py):
        # its own queries, on the unit of work's session.
        status = StatusRepository(uow.session, tenant_id)
        key = status.fingerprint()
        # The job's progress (and its estimate of the time left) and the reconciliation's lag
        # move on their own clock: read fresh on every call and appended as the document's
        # last keys, past the cache (a pass that changed nothing leaves the cache warm).
        fresh = {"onboarding_job": _job_progress(status), "reconciliation": _reconciliation(status)}
        tag = _entity_tag(tenant_id, key, fresh)
        if seen is not None and (tag in seen or "*" in seen):
            return tag, None
        document = cache.get_or_build(
            status, lambda: build_document(status, uow.requirements, cache), key=key
        )
        # One copy of the document (megabytes at 10,000 stores), not one per `+`.
        tail = memoryview(orjson.dumps(fresh))[1:]
        return tag, b"".join((memoryview(document)[:-1], b",", tail))


def _entity_tag(tenant_id: str, key: tuple[Any, ...], fresh: dict[str, Any]) -> str:
    job = dict(fresh["onboarding_job"] or {})
    job.pop("estimated_seconds_remaining", None)
    stable = (tenant_id, key, job, fresh["reconciliation"]["last_succeeded_at"])
    digest = hashlib.blake2b(repr(stable).encode(), digest_size=16).hexdigest()
    return f'W/"{digest}"'


def build_document(
    status: StatusRepository,
    requirements: RequirementRepository,
    parts: StatusCache | None = None,
) -> bytes:
    """The document, serialised: the head and the country summaries, the stores' stored
    entries as the database joins them (one value), then the tail. The head and the tail are
    taken from `parts` when what they are built from is unchanged (a write to a store leaves
    them), else serialised and kept there. Built from the rows instead when the stored
    entries do not cover every store (`fragments.repair` fixes that)."""
    counts = status.fragment_counts()
    if sum(n for _, n, _ in counts) != status.known_store_count():
        return orjson.dumps(build_status(status, requirements))
    configuration = functools.cache(status.configuration)  # read once, by whichever part needs it

    def head() -> bytes:
        per_country = Counter({cc: n for cc, n, _ in counts})
        onboarded_per_country = Counter({cc: done for cc, _, done in counts if done})
        built = _head(status, configuration(), requirements, per_country, onboarded_per_country)
        # The head's last key is `countries`; `stores` follows it, as in `build_status`.
        return orjson.dumps(built)[:-1] + b',"stores":['

    def tail() -> bytes:
        # After `stores`: `{"disabling":...}` less its opening brace.
        return b"]," + orjson.dumps(_tail(status, configuration()[2]))[1:]

    if parts is None:
        first, last = head(), tail()
    else:
        beyond = status.beyond_stores()
        first = parts.part(status.tenant_id, "head", (beyond, tuple(sorted(counts))), head)
        last = parts.part(status.tenant_id, "tail", beyond, tail)
    # One join: the document (megabytes at 10,000 stores) is copied once.
    return b"".join((first, status.stores_array(), last))


_PROGRESS_FIELDS = {
    "id",
    "status",
    "operation",
    "total",
    "counts",
    "estimated_seconds_remaining",
    "created_at",
    "finished_at",
}


def _job_progress(status: StatusRepository) -> dict[str, Any] | None:
    latest = status.latest_job()
    if latest is None:
        return None
    read = job_read(job_view(*latest))
    return read.model_dump(mode="json", include=_PROGRESS_FIELDS)


def _reconciliation(status: StatusRepository) -> dict[str, Any]:
    last = status.last_reconciled()
    lag = None if last is None else round(max(0.0, (utcnow() - last).total_seconds()), 1)
    return {"last_succeeded_at": _iso(last), "lag_seconds": lag}


def build_status(status: StatusRepository, requirements: RequirementRepository) -> dict[str, Any]:
    """The document (`status.schemas.OnboardingStatus`) as plain data, from the rows."""
    stores, per_country, onboarded_per_country = _stores(status)
    configuration = status.configuration()
    document = _head(status, configuration, requirements, per_country, onboarded_per_country)
    document["stores"] = stores
    document.update(_tail(status, configuration[2]))
    return document


def _tail(status: StatusRepository, disabling: TenantDisabling | None) -> dict[str, Any]:
    """Everything after `stores` (but the keys read past the cache): the disabling, the
    account's numbers and the retailer's own actions."""
    numbers = _numbers(status.orphan_view())
    actions = [RELEASE_ORPHAN_NUMBERS] if numbers["orphans"] else []
    return {"disabling": _disabling(disabling), "numbers": numbers, "actions": actions}


#: The tenant-level action when the account owns orphan numbers (docs/actions.md).
RELEASE_ORPHAN_NUMBERS = "release_orphan_numbers"


def _numbers(view: tuple[int, list[Orphan]]) -> dict[str, Any]:
    owned, orphans = view
    return {
        "owned": owned,
        "orphans": len(orphans),
        "orphan_monthly_cost": _total(orphans),
    }


def _total(orphans: list[Orphan]) -> dict[str, str] | None:
    """The orphans' monthly prices added up, when every one is known, in one currency."""
    units = {o.price_unit for o in orphans}
    if not orphans or len(units) != 1 or any(o.monthly_price is None for o in orphans):
        return None
    try:
        amount = sum((Decimal(o.monthly_price or "") for o in orphans), Decimal(0))
    except InvalidOperation:
        return None
    return {"amount": str(amount), "currency": str(units.pop())}


def _head(
    status: StatusRepository,
    configuration: tuple[Tenant | None, OptInTemplate | None, TenantDisabling | None],
    requirements: RequirementRepository,
    per_country: Counter[str],
    onboarded_per_country: Counter[str],
) -> dict[str, Any]:
    """Everything before `stores`: the tenant, Twilio, the opt-in template (of
    `configuration`) and each country's summary (from the store counts given)."""
    tenant_id = status.tenant_id
    tenant, opt_in, _ = configuration
    connected = tenant is not None and tenant.subaccount_status == "active"

    bundles_by_country: dict[str, list[BundleRecord]] = {}
    for record in status.bundles():
        bundles_by_country.setdefault(record.iso_country or "", []).append(record)
    trust = _best(status.trust_products())
    # The US A2P 10DLC chain: only the trust product under the A2P messaging-profile policy
    # counts (an approved SHAKEN/STIR or CNAM product does not), with the brand and campaigns.
    a2p_row, a2p_campaigns, has_profile = status.a2p()
    a2p_product = _best(
        [p for p in status.trust_products() if p.policy_sid == A2P_MESSAGING_PROFILE_POLICY]
    )
    a2p_chain = chain_facts(a2p_row, a2p_campaigns, a2p_product, has_profile=has_profile)

    # The rules table with the bundle requirements sync last refreshed from Twilio.
    rules = effective_rules(requirements)
    countries = []
    for cc in sorted(per_country):
        rule = rules.get(cc.strip().upper())
        bundle: BundleRecord | None = _best(
            _country_bundles(
                bundles_by_country.get(cc, []), rule.sms_number_type if rule is not None else None
            )
        )
        product = trust if rule is not None and rule.trust_product_required else None
        us_a2p = cc.strip().upper() == "US" and rule is not None and rule.trust_product_required
        chain = a2p_chain if us_a2p else None
        facts = CountryFacts(
            country_code=cc,
            stores=per_country[cc],
            onboarded_stores=onboarded_per_country[cc],
            clienteling_enabled=tenant is not None,
            twilio_connected=connected,
            bundle=BundleFacts(
                status=bundle.status,
                sid=bundle.sid,
                failure_reason=bundle.failure_reason,
                documents=_documents(bundle.documents),
            )
            if bundle is not None
            else None,
            trust_product=chain
            if chain is not None
            else TrustProductFacts(
                status=product.status, sid=product.sid, documents=_documents(product.documents)
            )
            if product is not None
            else None,
            opt_in_exists=opt_in is not None,
        )
        derived = derive_country_status(facts, rules)
        countries.append(
            {
                "country_code": cc,
                "stores": derived.stores,
                "number_availability": {"supported": derived.number_availability_supported},
                "regulatory_bundle": _compliance_read(derived.regulatory_bundle, "bundle_id"),
                "trusted_product": _compliance_read(derived.trusted_product, "product_id"),
                "actions": derived.actions,
            }
        )

    onboarded_at = tenant.onboarded_at if tenant is not None else None
    return {
        "tenant": tenant_id,
        "onboarded": onboarded_at is not None,
        "onboarded_at": onboarded_at.isoformat().replace("+00:00", "Z") if onboarded_at else None,
        "twilio": {
            "connected": connected,
            "sid": tenant.subaccount_sid if tenant is not None else None,
            "call_forwarding": {
                "sid": tenant.voice_app_sid if tenant is not None else None,
                "name": tenant.voice_app_name if tenant is not None else None,
            },
        },
        "opt_in": {
            "exists": opt_in is not None,
            "id": opt_in.id if opt_in is not None else None,
            "body": opt_in.body if opt_in is not None else None,
        },
        "countries": countries,
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat().replace("+00:00", "Z") if at is not None else None


def _disabling(row: TenantDisabling | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "status": row.status,
        "stage": row.stage,
        "stores_total": row.stores_total,
        "stores_offboarded": row.stores_offboarded,
        "numbers_released": row.numbers_released,
        "last_error": row.last_error,
        "started_at": _iso(row.created_at),
        "finished_at": _iso(row.finished_at),
    }
