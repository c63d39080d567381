"""Writing the compliance read model (bundles and trust products) without lost updates.

Two writers meet here: reconciliation (which reads Twilio's lists, then writes) and Twilio's
bundle status callbacks (which write as they arrive). A reconciliation pass notes when it
started reading (``read_since``) and changes only rows nobody wrote after that moment, in one
conditional UPDATE each, so a callback that lands while the pass talks to Twilio is never
overwritten with the older answer; the next pass picks Twilio's state up again. Deletes follow
the same rule and touch only bundles Twilio no longer lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from clienteling_setup.compliance.actions import TWILIO_REJECTED
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


@dataclass(frozen=True)
class FetchedBundle:
    bundle: Bundle
    address_sid: str | None
    documents: Sequence[SupportingDocument]


@dataclass(frozen=True)
class FetchedTrustProduct:
    product: TrustProduct
    documents: Sequence[SupportingDocument]


def fetch_bundle(
    gateway: MessagingGateway, account: AccountCredentials, bundle: Bundle
) -> FetchedBundle:
    """A bundle with its address and supporting documents, as Twilio has them now."""
    return FetchedBundle(
        bundle,
        gateway.bundle_address_sid(account, bundle.sid),
        gateway.list_bundle_documents(account, bundle.sid),
    )


def fetch_all(
    gateway: MessagingGateway, account: AccountCredentials
) -> tuple[list[FetchedBundle], list[FetchedTrustProduct]]:
    """Every bundle and trust product of the account with their documents. The calls for
    different bundles and products run concurrently (a tenant has a dozen bundles, each needing
    a few calls); the first failure is raised."""
    with ThreadPoolExecutor(max_workers=FETCH_CONCURRENCY) as pool:
        listed_products = pool.submit(gateway.list_trust_products, account)
        bundle_futures = [
            pool.submit(fetch_bundle, gateway, account, b) for b in gateway.list_bundles(account)
        ]
        product_futures = [
            (p, pool.submit(gateway.list_trust_product_documents, account, p.sid))
            for p in listed_products.result()
        ]
        bundles = [f.result() for f in bundle_futures]
        products = [FetchedTrustProduct(p, f.result()) for p, f in product_futures]
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
    docs: Sequence[SupportingDocument],
    now: datetime,
    **more: Any,
) -> dict[str, Any]:
    """The row values of `record` (a bundle or trust product) as read from Twilio at `now`."""
    values = {name: getattr(record, name) for name in fields}
    return {**values, **more, "documents": documents(docs), "synced_at": now, "updated_at": now}


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
        values = synced_values(b, BUNDLE_FIELDS, item.documents, now, address_sid=item.address_sid)
        # A rejected bundle whose evaluation names no reason keeps the reason already known
        # (from a callback or an earlier read).
        keep_reason = b.status == TWILIO_REJECTED and b.failure_reason is None
        row = known.get(b.sid)
        if row is not None and _same(
            row, values if not keep_reason else {**values, "failure_reason": row.failure_reason}
        ):
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
        values = synced_values(p, TRUST_PRODUCT_FIELDS, item.documents, now)
        row = known.get(p.sid)
        if row is not None and _same(row, values):
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
