"""Regulations, addresses, regulatory bundles and trust products: how the emulator builds them.

A bundle is built like Twilio's: an end user (IT...), supporting documents (RD...) and an address
(AD...) assigned as items, and an evaluation (EL...) per review. A rejected bundle's evaluation
carries the failure reason, and its rejected document carries it too.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .countries import COUNTRIES
from .models import Address, Bundle, Evaluation, ItemAssignment, Regulation, SupportingDocument

if TYPE_CHECKING:
    from .state import EmulatorState

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
_TYPE_NAMES = {
    "local": "Local",
    "mobile": "Mobile",
    "national": "National",
    "toll-free": "Toll Free",
}
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


def regulation_sid(iso_country: str, number_type: str, end_user_type: str) -> str:
    key = f"regulation:{iso_country}:{number_type}:{end_user_type}"
    return "RN" + hashlib.md5(key.encode()).hexdigest()


def regulations(seed: int) -> dict[str, Regulation]:
    """Twilio's regulations for the countries and types that need a bundle."""
    found: dict[str, Regulation] = {}
    for iso, rules in COUNTRIES.items():
        for number_type, rule in rules.types.items():
            if not rule.bundle_required:
                continue
            for end_user_type in ("business", "individual"):
                sid = regulation_sid(iso, number_type, end_user_type)
                name = f"{rules.name}: {_TYPE_NAMES[number_type]} - {end_user_type.title()}"
                found[sid] = Regulation(sid, iso, number_type, end_user_type, name)
    return found


def requirements(regulation: Regulation) -> dict[str, Any]:
    """The `requirements` object of a regulation, shaped like Twilio's."""
    base = "https://numbers.twilio.com/v2/RegulatoryCompliance"
    kind = regulation.end_user_type
    fields = (
        ["business_name", "business_registration_number"]
        if kind == "business"
        else ["first_name", "last_name"]
    )
    return {
        "end_user": [
            {
                "name": kind.title(),
                "type": kind,
                "requirement_name": f"{kind}_info",
                "url": f"{base}/Regulations/{kind}",
                "fields": fields,
                "detailed_fields": [
                    {
                        "machine_name": f,
                        "friendly_name": f.replace("_", " ").title(),
                        "description": f.replace("_", " ").capitalize(),
                    }
                    for f in fields
                ],
            }
        ],
        "supporting_document": [
            [
                {
                    "name": "Address",
                    "type": "document",
                    "requirement_name": "proof_of_address",
                    "description": "The physical location of the business or individual.",
                    "accepted_documents": [
                        {
                            "name": "Address Validation",
                            "type": "address",
                            "url": f"{base}/DocumentTypes/address",
                            "fields": ["address_sids"],
                        }
                    ],
                }
            ]
        ],
    }


def add_address(state: EmulatorState, account_sid: str, iso_country: str, **fields: Any) -> Address:
    street, city, region, postal = _STREETS.get(iso_country, ("1 Main Street", "City", "", "0000"))
    now = state.now()
    address = Address(
        sid=state.new_sid("AD"),
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
    state.addresses_by_sid[address.sid] = address
    return address


def _evaluation(state: EmulatorState, bundle: Bundle, failure_reason: str | None) -> Evaluation:
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
        state.new_sid("EL"),
        bundle.account_sid,
        bundle.regulation_sid,
        bundle.sid,
        "compliant" if compliant else "noncompliant",
        results,
        state.now(),
    )
    state.evaluations[evaluation.sid] = evaluation
    return evaluation


def _assign(
    state: EmulatorState,
    store: dict[str, ItemAssignment],
    parent: str,
    account: str,
    object_sid: str,
) -> None:
    item = ItemAssignment(state.new_sid("BV"), parent, account, object_sid, state.now())
    store[item.sid] = item


def add_bundle(
    state: EmulatorState,
    account_sid: str,
    iso_country: str,
    number_type: str,
    status: str,
    *,
    address_sid: str | None,
    end_user_type: str,
    friendly_name: str | None,
    failure_reason: str | None,
) -> Bundle:
    if status not in BUNDLE_STATUSES:
        raise ValueError(f"bundle status must be one of {BUNDLE_STATUSES}")
    now = state.now()
    country = COUNTRIES[iso_country].name if iso_country in COUNTRIES else iso_country
    bundle = Bundle(
        sid=state.new_sid("BU"),
        account_sid=account_sid,
        regulation_sid=regulation_sid(iso_country, number_type, end_user_type),
        friendly_name=friendly_name
        or f"{country} {_TYPE_NAMES.get(number_type, number_type)} bundle",
        status=status,
        email="compliance@retailer.example",
        date_created=now,
        date_updated=now,
        iso_country=iso_country,
        number_type=number_type,
        end_user_type=end_user_type,
        valid_until=now.replace(year=now.year + 1) if status == "twilio-approved" else None,
    )
    state.bundles_by_sid[bundle.sid] = bundle
    if address_sid is None:
        address_sid = (
            next(
                (a.sid for a in state.addresses(account_sid) if a.iso_country == iso_country), None
            )
            or add_address(state, account_sid, iso_country).sid
        )
    _assign(state, state.item_assignments, bundle.sid, account_sid, state.new_sid("IT"))
    first, second = _DOC_STATUS[status]
    for doc_type, doc_status, name in (
        ("business_registration", first, "Business registration"),
        ("utility_bill", second, "Proof of address"),
    ):
        doc = SupportingDocument(
            state.new_sid("RD"),
            account_sid,
            f"{name} ({iso_country})",
            doc_type,
            doc_status,
            now,
            now,
            failure_reason=(failure_reason or DEFAULT_FAILURE)
            if doc_status == "rejected"
            else None,
            attributes={"address_sids": [address_sid]},
        )
        state.regulatory_documents[doc.sid] = doc
        _assign(state, state.item_assignments, bundle.sid, account_sid, doc.sid)
    _assign(state, state.item_assignments, bundle.sid, account_sid, address_sid)
    if status not in ("draft",):
        _evaluation(state, bundle, failure_reason)
    return bundle


def bundle_documents(state: EmulatorState, bundle_sid: str) -> list[SupportingDocument]:
    return [
        state.regulatory_documents[i.object_sid]
        for i in state.item_assignments.values()
        if i.parent_sid == bundle_sid and i.object_sid in state.regulatory_documents
    ]


def set_bundle_status(
    state: EmulatorState, account_sid: str, bundle_sid: str, status: str, failure_reason: str | None
) -> Bundle:
    if status not in BUNDLE_STATUSES:
        raise ValueError(f"bundle status must be one of {BUNDLE_STATUSES}")
    bundle = state.bundles_by_sid.get(bundle_sid)
    if bundle is None or bundle.account_sid != account_sid:
        raise KeyError(f"bundle {bundle_sid} of account {account_sid}")
    bundle.status = status
    bundle.date_updated = state.now()
    bundle.valid_until = (
        bundle.date_updated.replace(year=bundle.date_updated.year + 1)
        if status == "twilio-approved"
        else None
    )
    first, second = _DOC_STATUS[status]
    for doc, doc_status in zip(bundle_documents(state, bundle_sid), (first, second), strict=False):
        doc.status = doc_status
        doc.failure_reason = (
            (failure_reason or DEFAULT_FAILURE) if doc_status == "rejected" else None
        )
        doc.date_updated = bundle.date_updated
    if status != "draft":
        _evaluation(state, bundle, failure_reason)
    return bundle


def bundle_callback(
    state: EmulatorState, bundle: Bundle, failure_reason: str | None
) -> list[tuple[str, str, dict[str, str], str]]:
    """The status callback a bundle's change sends, if it has a StatusCallback.

    Twilio does not publish the body of the bundle status callback; the emulator sends what its
    other status callbacks send: a form-encoded POST with ``AccountSid``, ``BundleSid``,
    ``Status``, ``FailureReason`` (when rejected) and ``DateUpdated`` (ISO 8601), signed with the
    owning account's auth token like every Twilio webhook (``X-Twilio-Signature``).
    """
    account = state.accounts.get(bundle.account_sid)
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
    return [(bundle.status_callback, "POST", params, account.auth_token)]


def add_trust_product(
    state: EmulatorState, account_sid: str, friendly_name: str, status: str
) -> Bundle:
    if status not in TRUST_PRODUCT_STATUSES:
        raise ValueError(f"trust product status must be one of {TRUST_PRODUCT_STATUSES}")
    now = state.now()
    product = Bundle(
        sid=state.new_sid("BU"),
        account_sid=account_sid,
        regulation_sid="RN" + hashlib.md5(f"policy:{friendly_name}".encode()).hexdigest(),
        friendly_name=friendly_name,
        status=status,
        email="compliance@retailer.example",
        date_created=now,
        date_updated=now,
        iso_country="US",
        valid_until=now.replace(year=now.year + 1) if status == "twilio-approved" else None,
    )
    state.trust_products_by_sid[product.sid] = product
    _assign(state, state.entity_assignments, product.sid, account_sid, state.new_sid("IT"))
    for doc_type, name in (
        ("customer_profile_address", "Business address"),
        ("business_registration", "Business registration"),
    ):
        doc = SupportingDocument(
            state.new_sid("RD"),
            account_sid,
            name,
            doc_type,
            _TRUST_DOC_STATUS[status],
            now,
            now,
        )
        state.trust_documents[doc.sid] = doc
        _assign(state, state.entity_assignments, product.sid, account_sid, doc.sid)
    return product
