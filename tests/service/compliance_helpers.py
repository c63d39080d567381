"""Helpers for compliance tests: find the emulator's seeded bundles and trust products, and
the uploads the status should show for them (SIDs and timestamps from the emulator, names and
statuses given by the test)."""

from __future__ import annotations

from typing import Any

from twilio_emulator import EmulatorServer
from twilio_emulator.compliance import bundle_documents
from twilio_emulator.models import Bundle, SupportingDocument

BUNDLE_CALLBACK_PATH = "/clienteling/webhooks/twilio/bundle-status"


def emulator_bundle(
    emulator: EmulatorServer, account: str, country: str, number_type: str, status: str
) -> Bundle:
    """The first bundle of `account` seeded for this country, number type and status."""
    return next(
        b
        for b in emulator.state.bundles(account)
        if b.iso_country == country and b.number_type == number_type and b.status == status
    )


def trust_product(emulator: EmulatorServer, account: str, friendly_name: str) -> Bundle:
    return next(
        p for p in emulator.state.trust_products(account) if p.friendly_name == friendly_name
    )


def _iso(doc: SupportingDocument, attribute: str) -> str:
    return str(getattr(doc, attribute).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _uploads(
    docs: list[SupportingDocument], expected: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    assert len(docs) == len(expected), docs
    return [
        {
            "sid": doc.sid,
            "name": name,
            "status": status,
            "created_at": _iso(doc, "date_created"),
            "updated_at": _iso(doc, "date_updated"),
        }
        for doc, (name, status) in zip(docs, expected, strict=True)
    ]


def bundle_uploads(
    emulator: EmulatorServer, bundle: Bundle, expected: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    """`expected` lists (name without the country suffix, status) in Twilio's order."""
    with emulator.state.lock:
        docs = bundle_documents(emulator.state, bundle.sid)
    country = f" ({bundle.iso_country})"
    return _uploads(docs, [(name + country, status) for name, status in expected])


def trust_uploads(
    emulator: EmulatorServer, product: Bundle, expected: list[tuple[str, str]]
) -> list[dict[str, Any]]:
    state = emulator.state
    with state.lock:
        docs = [
            state.trust_documents[a.object_sid]
            for a in state.entity_assignments.values()
            if a.parent_sid == product.sid and a.object_sid in state.trust_documents
        ]
    return _uploads(docs, expected)
