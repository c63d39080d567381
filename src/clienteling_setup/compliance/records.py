"""Writing the compliance read model (bundles and trust products) without lost updates.

Two writers meet here: reconciliation (which reads Twilio's lists, then writes) and Twilio's
bundle status callbacks (which write as they arrive). A reconciliation pass notes when it
started reading (``read_since``) and changes only rows nobody wrote after that moment, in one
conditional UPDATE each, so a callback that lands while the pass talks to Twilio is never
overwritten with the older answer; the next pass picks Twilio's state up again. Deletes follow
the same rule and touch only bundles Twilio no longer lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clienteling_setup.compliance.actions import TWILIO_APPROVED, TWILIO_REJECTED
from clienteling_setup.compliance.models import BundleRecord, TrustProductRecord
from clienteling_setup.compliance.repository import ComplianceRepository
from clienteling_setup.db.base import utcnow
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    Bundle,
    MessagingGateway,
    SupportingDocument,
    TrustProduct,
)

#: Gateway calls in flight at once while one tenant's compliance state is read.
FETCH_CONCURRENCY = 16


#: Twilio's review of a bundle or trust product is over in these states. A pass reads such an
#: item's details (documents, address, failure reason) once; after that only its line in the
#: list, until the listed status changes or a bundle callback marks it for a re-read.
FINAL_STATUSES = frozenset({TWILIO_APPROVED, TWILIO_REJECTED})


@dataclass(frozen=True)
class FetchedBundle:
    bundle: Bundle
    address_sid: str | None
    #: None when the details were not read again (a settled bundle keeps its stored ones).
    documents: Sequence[SupportingDocument] | None


@dataclass(frozen=True)
class FetchedTrustProduct:
    product: TrustProduct
    documents: Sequence[SupportingDocument] | None


def settled(rows: Mapping[str, BundleRecord] | Mapping[str, TrustProductRecord]) -> dict[str, str]:
    """The status of each stored item whose details need no re-read: final, and read in full
    since the last callback about it (`synced_at` set)."""
    return {
        sid: row.status
        for sid, row in rows.items()
        if row.status in FINAL_STATUSES and row.synced_at is not None
    }


def fetch_bundle(
    gateway: MessagingGateway, account: AccountCredentials, bundle: Bundle
) -> FetchedBundle:
    """A bundle with its address and supporting documents, as Twilio has them now."""
    return FetchedBundle(
        bundle,
        gateway.bundle_address_sid(account, bundle.sid),
        gateway.list_bundle_documents(account, bundle.sid),
    )


def _read_bundle(
    gateway: MessagingGateway,
    account: AccountCredentials,
    listed: Bundle,
    known: Mapping[str, str],
) -> FetchedBundle:
    if known.get(listed.sid) == listed.status:
        return FetchedBundle(listed, None, None)
    # The list was read without evaluations: a newly rejected bundle's reason needs its own.
    rejected = listed.status == TWILIO_REJECTED
    bundle = gateway.fetch_bundle(account, listed.sid) if rejected else listed
    return fetch_bundle(gateway, account, bundle)


def _read_product(
    gateway: MessagingGateway,
    account: AccountCredentials,
    listed: TrustProduct,
    known: Mapping[str, str],
) -> FetchedTrustProduct:
    if known.get(listed.sid) == listed.status:
        return FetchedTrustProduct(listed, None)
    return FetchedTrustProduct(listed, gateway.list_trust_product_documents(account, listed.sid))


def fetch_all(
    gateway: MessagingGateway,
    account: AccountCredentials,
    *,
    settled_bundles: Mapping[str, str] | None = None,
    settled_products: Mapping[str, str] | None = None,
) -> tuple[list[FetchedBundle], list[FetchedTrustProduct]]:
    """Every bundle and trust product of the account: one list call of each, plus the details
    of those not settled (`settled_*`: sid to the final status stored; see `settled`). The
    calls run concurrently; the first failure is raised."""
    known_bundles = settled_bundles or {}
    known_products = settled_products or {}
    with ThreadPoolExecutor(max_workers=FETCH_CONCURRENCY) as pool:
        listed_products = pool.submit(gateway.list_trust_products, account)
        bundle_futures = [
            pool.submit(_read_bundle, gateway, account, b, known_bundles)
            for b in gateway.list_bundles(account, failure_reasons=False)
        ]
        product_futures = [
            pool.submit(_read_product, gateway, account, p, known_products)
            for p in listed_products.result()
        ]
        bundles = [f.result() for f in bundle_futures]
        products = [f.result() for f in product_futures]
    return bundles, products


def document_status(status: str) -> str:
    """One vocabulary for document statuses: the numbers API says ``pending-review``, the
    trusthub API ``PENDING_REVIEW`` for the same state."""
    return status.strip().lower().replace("_", "-")


def documents(docs: Sequence[SupportingDocument]) -> list[dict[str, str | None]]:
    """Supporting documents as stored (and shown as ``uploads[]``)."""
    return [
        {
            "sid": d.sid,
            "name": d.friendly_name,
            "status": document_status(d.status),
            "created_at": d.date_created,
            "updated_at": d.date_updated,
        }
        for d in docs
    ]


#: The fields of a bundle and of a trust product that their rows keep, as Twilio gave them.
BUNDLE_FIELDS = ("iso_country", "number_type", "friendly_name", "status", "failure_reason")
TRUST_PRODUCT_FIELDS = ("friendly_name", "status", "policy_sid")


def synced_values(
    record: object,
    fields: tuple[str, ...],
    docs: list[dict[str, str | None]],
    now: datetime,
    **more: Any,
) -> dict[str, Any]:
    """The row values of `record` (a bundle or trust product) as read from Twilio at `now`,
    with its documents in their stored form."""
    values = {name: getattr(record, name) for name in fields}
    return {**values, **more, "documents": docs, "synced_at": now, "updated_at": now}


def store_bundles(
    compliance: ComplianceRepository,
    fetched: Sequence[FetchedBundle],
    *,
    read_since: datetime,
    complete: bool,
) -> None:
    """Upsert bundles read from Twilio since `read_since`. With `complete` (the whole list),
    also delete the tenant's bundles Twilio no longer lists (unless written since). A bundle
    whose stored row already says what Twilio says is not written at all."""
    now = utcnow()
    known = compliance.bundles()
    for item in fetched:
        b = item.bundle
        row = known.get(b.sid)
        if item.documents is not None:
            docs, address_sid = documents(item.documents), item.address_sid
        elif row is not None:  # settled: its details were not read again
            docs, address_sid = row.documents, row.address_sid
        else:
            continue  # deleted meanwhile; the next pass reads it in full
        values = synced_values(b, BUNDLE_FIELDS, docs, now, address_sid=address_sid)
        # A rejected bundle whose evaluation names no reason keeps the reason already known
        # (from a callback or an earlier read).
        keep_reason = b.status == TWILIO_REJECTED and b.failure_reason is None
        if row is not None and _same(
            row, values if not keep_reason else {**values, "failure_reason": row.failure_reason}
        ):
            if row.synced_at is None and item.documents is not None:
                compliance.mark_read(BundleRecord, b.sid, now)
            continue
        compliance.upsert_bundle(
            b.sid, values, read_since=read_since, keep_failure_reason=keep_reason
        )
    if complete:
        compliance.delete_bundles_except(
            [item.bundle.sid for item in fetched], read_since=read_since
        )


def store_trust_products(
    compliance: ComplianceRepository,
    fetched: Sequence[FetchedTrustProduct],
    *,
    read_since: datetime,
) -> None:
    """Upsert the tenant's whole trust product list; delete those Twilio no longer lists.
    A product whose stored row already says what Twilio says is not written at all."""
    now = utcnow()
    known = compliance.trust_products()
    for item in fetched:
        p = item.product
        row = known.get(p.sid)
        if item.documents is not None:
            docs = documents(item.documents)
        elif row is not None:  # settled: its documents were not read again
            docs = row.documents
        else:
            continue  # deleted meanwhile; the next pass reads it in full
        values = synced_values(p, TRUST_PRODUCT_FIELDS, docs, now)
        if row is not None and _same(row, values):
            if row.synced_at is None and item.documents is not None:
                compliance.mark_read(TrustProductRecord, p.sid, now)
            continue
        compliance.upsert_trust_product(p.sid, values, read_since=read_since)
    compliance.delete_trust_products_except(
        [item.product.sid for item in fetched], read_since=read_since
    )


#: Bookkeeping columns: a write of only these would change nothing the status shows.
_BOOKKEEPING = frozenset({"synced_at", "updated_at"})


def _same(row: Any, values: dict[str, Any]) -> bool:
    """Whether `row` already holds `values` (bookkeeping aside): then nothing is written, so
    the row's `updated_at`, and the status fingerprint built on it, stay where they are."""
    return all(getattr(row, k) == v for k, v in values.items() if k not in _BOOKKEEPING)


def apply_bundle_status(
    compliance: ComplianceRepository, sid: str, status: str, failure_reason: str | None
) -> bool:
    """Record a status callback on a known bundle; False when the bundle is not known yet.
    A callback repeating what the row already says writes nothing (the status fingerprint,
    and the cached document, stay)."""
    row = compliance.bundle_for_update(sid)
    if row is None:
        return False
    # Whatever it says, the bundle's details are read again (by the callback's own refresh,
    # or by the next pass if that fails), final state or not.
    compliance.mark_for_reread(sid)
    if status != TWILIO_REJECTED:
        failure_reason = None
    elif not failure_reason and row.status == TWILIO_REJECTED:
        failure_reason = row.failure_reason
    if row.status == status and row.failure_reason == failure_reason:
        return True
    row.status = status
    row.failure_reason = failure_reason
    row.updated_at = utcnow()
    return True
