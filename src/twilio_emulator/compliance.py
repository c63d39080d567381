"""Regulations, addresses, regulatory bundles and trust products: how the emulator builds them.

A bundle is built like Twilio's: an end user (IT...), supporting documents (RD...) and an address
(AD...) assigned as items, and an evaluation (EL...) per review. A rejected bundle's evaluation
carries the failure reason, and its rejected document carries it too.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

from .countries import COUNTRIES, TYPE_NAMES
from .models import Address, Bundle, Evaluation, ItemAssignment, PendingCallback, SupportingDocument
from .regulations import regulation_sid

if TYPE_CHECKING:
    from .world import World

BUNDLE_STATUSES = (
    "draft",
    "pending-review",
    "in-review",
    "twilio-rejected",
    "twilio-approved",
    "provisionally-approved",
)
TRUST_PRODUCT_STATUSES = (
    "draft",
    "pending-review",
    "in-review",
    "twilio-rejected",
    "twilio-approved",
)
DEFAULT_FAILURE = "The business registration document is illegible. Upload a clear copy."
_DOC_STATUS = {  # bundle status -> statuses of its two supporting documents
    "draft": ("draft", "draft"),
    "pending-review": ("pending-review", "approved"),
    "in-review": ("pending-review", "approved"),
    "twilio-rejected": ("rejected", "approved"),
    "twilio-approved": ("approved", "approved"),
    "provisionally-approved": ("provisionally-approved", "approved"),
}
_TRUST_DOC_STATUS = {
    "draft": "DRAFT",
    "pending-review": "PENDING_REVIEW",
    "in-review": "PENDING_REVIEW",
    "twilio-rejected": "REJECTED",
    "twilio-approved": "APPROVED",
}
_STREETS = {
    "US": ("350 5th Ave", "New York", "NY", "10118"),
    "CA": ("290 Bremner Blvd", "Toronto", "ON", "M5V 3L9"),
    "GB": ("1 Regent Street", "London", "London", "SW1Y 4NR"),
    "DE": ("Kurfürstendamm 21", "Berlin", "Berlin", "10719"),
    "FR": ("52 Avenue des Champs-Élysées", "Paris", "Île-de-France", "75008"),
    "NL": ("Kalverstraat 92", "Amsterdam", "Noord-Holland", "1012 PH"),
    "ES": ("Calle de Preciados 9", "Madrid", "Madrid", "28013"),
    "IT": ("Via Montenapoleone 8", "Milano", "Lombardia", "20121"),
    "AU": ("188 Pitt Street", "Sydney", "NSW", "2000"),
}


class BundleOptions(TypedDict, total=False):
    """What `add_bundle` may be told besides the account, country, number type and status."""

    address_sid: str | None  # default: the account's address in the country (one is added)
    end_user_type: str  # business (default) | individual
    friendly_name: str | None  # default: "{Country} {Type} bundle"
    failure_reason: str | None  # of a twilio-rejected bundle
    status_callback: str | None


def _valid_until(status: str, since: datetime) -> datetime | None:
    """An approved bundle or trust product is valid for a year from its approval."""
    return since.replace(year=since.year + 1) if status == "twilio-approved" else None


def _document_failure(doc_status: str, failure_reason: str | None) -> str | None:
    return (failure_reason or DEFAULT_FAILURE) if doc_status == "rejected" else None


def add_address(world: World, account_sid: str, iso_country: str, **fields: Any) -> Address:
    street, city, region, postal = _STREETS.get(iso_country, ("1 Main Street", "City", "", "0000"))
    now = world.now()
    address = Address(
        sid=world.new_sid("AD"),
        account_sid=account_sid,
        customer_name=fields.pop("customer_name", "Emulated Retailer Ltd"),
        friendly_name=fields.pop("friendly_name", f"{city} head office"),
        street=fields.pop("street", street),
        city=fields.pop("city", city),
        region=fields.pop("region", region),
        postal_code=fields.pop("postal_code", postal),
        iso_country=iso_country,
        date_created=now,
        date_updated=now,
        **fields,
    )
    world.addresses_by_sid[address.sid] = address
    return address


def _evaluation(world: World, bundle: Bundle, failure_reason: str | None) -> Evaluation:
    compliant = bundle.status != "twilio-rejected"
    results: list[dict[str, Any]] = []
    if not compliant:
        reason = failure_reason or DEFAULT_FAILURE
        results.append(
            {
                "friendly_name": "Business Registration",
                "object_type": "commercial_registrar_excerpt",
                "passed": False,
                "failure_reason": reason,
                "error_code": 22217,
                "valid": [],
                "invalid": [
                    {
                        "friendly_name": "Business Name",
                        "object_field": "business_name",
                        "failure_reason": reason,
                        "error_code": 22217,
                    }
                ],
                "requirement_friendly_name": "Business Registration",
                "requirement_name": "business_registration",
            }
        )
    evaluation = Evaluation(
        world.new_sid("EL"),
        bundle.account_sid,
        bundle.regulation_sid,
        bundle.sid,
        "compliant" if compliant else "noncompliant",
        results,
        world.now(),
    )
    world.evaluations[evaluation.sid] = evaluation
    return evaluation


def _assign(
    world: World,
    store: dict[str, ItemAssignment],
    parent: str,
    account: str,
    object_sid: str,
) -> None:
    item = ItemAssignment(world.new_sid("BV"), parent, account, object_sid, world.now())
    store[item.sid] = item


def add_bundle(
    world: World,
    account_sid: str,
    iso_country: str,
    number_type: str,
    status: str = "twilio-approved",
    *,
    address_sid: str | None = None,
    end_user_type: str = "business",
    friendly_name: str | None = None,
    failure_reason: str | None = None,
    status_callback: str | None = None,
) -> Bundle:
    if status not in BUNDLE_STATUSES:
        raise ValueError(f"bundle status must be one of {BUNDLE_STATUSES}")
    now = world.now()
    country = COUNTRIES[iso_country].name if iso_country in COUNTRIES else iso_country
    bundle = Bundle(
        sid=world.new_sid("BU"),
        account_sid=account_sid,
        regulation_sid=regulation_sid(iso_country, number_type, end_user_type),
        friendly_name=friendly_name
        or f"{country} {TYPE_NAMES.get(number_type, number_type)} bundle",
        status=status,
        email="compliance@retailer.example",
        date_created=now,
        date_updated=now,
        iso_country=iso_country,
        number_type=number_type,
        end_user_type=end_user_type,
        valid_until=_valid_until(status, now),
        status_callback=status_callback,
    )
    world.bundles_by_sid[bundle.sid] = bundle
    if address_sid is None:
        address_sid = (
            next(
                (a.sid for a in world.addresses(account_sid) if a.iso_country == iso_country), None
            )
            or add_address(world, account_sid, iso_country).sid
        )
    _assign(world, world.item_assignments, bundle.sid, account_sid, world.new_sid("IT"))
    first, second = _DOC_STATUS[status]
    for doc_type, doc_status, name in (
        ("business_registration", first, "Business registration"),
        ("utility_bill", second, "Proof of address"),
    ):
        doc = SupportingDocument(
            world.new_sid("RD"),
            account_sid,
            f"{name} ({iso_country})",
            doc_type,
            doc_status,
            now,
            now,
            failure_reason=_document_failure(doc_status, failure_reason),
            attributes={"address_sids": [address_sid]},
        )
        world.regulatory_documents[doc.sid] = doc
        _assign(world, world.item_assignments, bundle.sid, account_sid, doc.sid)
    _assign(world, world.item_assignments, bundle.sid, account_sid, address_sid)
    if status not in ("draft",):
        _evaluation(world, bundle, failure_reason)
    return bundle


def bundle_documents(world: World, bundle_sid: str) -> list[SupportingDocument]:
    return [
        world.regulatory_documents[i.object_sid]
        for i in world.item_assignments.values()
        if i.parent_sid == bundle_sid and i.object_sid in world.regulatory_documents
    ]


def set_bundle_status(
    world: World, account_sid: str, bundle_sid: str, status: str, failure_reason: str | None
) -> Bundle:
    if status not in BUNDLE_STATUSES:
        raise ValueError(f"bundle status must be one of {BUNDLE_STATUSES}")
    bundle = world.bundles_by_sid.get(bundle_sid)
    if bundle is None or bundle.account_sid != account_sid:
        raise KeyError(f"bundle {bundle_sid} of account {account_sid}")
    bundle.status = status
    bundle.date_updated = world.now()
    bundle.valid_until = _valid_until(status, bundle.date_updated)
    first, second = _DOC_STATUS[status]
    for doc, doc_status in zip(bundle_documents(world, bundle_sid), (first, second), strict=False):
        doc.status = doc_status
        doc.failure_reason = _document_failure(doc_status, failure_reason)
        doc.date_updated = bundle.date_updated
    if status != "draft":
        _evaluation(world, bundle, failure_reason)
    return bundle


def bundle_callback(
    world: World, bundle: Bundle, failure_reason: str | None
) -> list[PendingCallback]:
    """The status callback a bundle's change sends, if it has a StatusCallback.

    Twilio does not publish the body of the bundle status callback; the emulator sends what its
    other status callbacks send: a form-encoded POST with ``AccountSid``, ``BundleSid``,
    ``Status``, ``FailureReason`` (when rejected) and ``DateUpdated`` (ISO 8601), signed with the
    owning account's auth token like every Twilio webhook (``X-Twilio-Signature``).
    """
    account = world.accounts.get(bundle.account_sid)
    if not bundle.status_callback or account is None:
        return []
    params = {
        "AccountSid": bundle.account_sid,
        "BundleSid": bundle.sid,
        "Status": bundle.status,
        "DateUpdated": bundle.date_updated.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if bundle.status == "twilio-rejected":
        params["FailureReason"] = failure_reason or DEFAULT_FAILURE
    return [PendingCallback(bundle.status_callback, "POST", params, account.auth_token)]


def add_trust_product(
    world: World, account_sid: str, friendly_name: str, status: str = "twilio-approved"
) -> Bundle:
    if status not in TRUST_PRODUCT_STATUSES:
        raise ValueError(f"trust product status must be one of {TRUST_PRODUCT_STATUSES}")
    now = world.now()
    product = Bundle(
        sid=world.new_sid("BU"),
        account_sid=account_sid,
        regulation_sid="RN" + hashlib.md5(f"policy:{friendly_name}".encode()).hexdigest(),
        friendly_name=friendly_name,
        status=status,
        email="compliance@retailer.example",
        date_created=now,
        date_updated=now,
        iso_country="US",
        valid_until=_valid_until(status, now),
    )
    world.trust_products_by_sid[product.sid] = product
    _assign(world, world.entity_assignments, product.sid, account_sid, world.new_sid("IT"))
    for doc_type, name in (
        ("customer_profile_address", "Business address"),
        ("business_registration", "Business registration"),
    ):
        doc = SupportingDocument(
            world.new_sid("RD"),
            account_sid,
            name,
            doc_type,
            _TRUST_DOC_STATUS[status],
            now,
            now,
        )
        world.trust_documents[doc.sid] = doc
        _assign(world, world.entity_assignments, product.sid, account_sid, doc.sid)
    return product
