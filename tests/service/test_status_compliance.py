"""The onboarding status of a tenant whose countries are each at a different step, compared
field by field to the whole expected document. Only SIDs, phone numbers and timestamps come
from the emulator or the database; everything else is written out here."""

from __future__ import annotations

from typing import Any

from clienteling_setup.db.session import transaction
from clienteling_setup.sync import SyncReport, sync_tenant
from clienteling_setup.tenants.models import Tenant
from tests.conftest import Service
from tests.service.compliance_helpers import (
    BUNDLE_CALLBACK_PATH,
    bundle_uploads,
    emulator_bundle,
    trust_product,
)
from tests.service.helpers import available_number, enable
from tests.support import Api
from twilio_emulator import EmulatorServer
from twilio_emulator.models import Bundle

STORES: dict[str, dict[str, Any]] = {
    "us-nyc": {"name": "Dodici Fifth Avenue", "country_code": "US", "region": "NY"},
    "ca-tor": {"name": "Dodici Yorkville", "country_code": "CA", "region": "ON"},
    "gb-lon": {"name": "Dodici Regent Street", "country_code": "GB", "locality": "London"},
    "nl-ams": {"name": "Dodici Kalverstraat", "country_code": "NL", "locality": "Amsterdam"},
    "ie-dub": {"name": "Dodici Grafton Street", "country_code": "IE", "locality": "Dublin"},
    "jp-tyo": {"name": "Dodici Ginza", "country_code": "JP", "locality": "Tokyo"},
}

NO_WHATSAPP = {
    "sid": None,
    "status": "not_onboarded",
    "waba": None,
    "quality_rating": None,
    "messaging_limit": None,
    "offline_reasons": [],
    "phone_number": None,
    "last_error": None,
}


def _store(store_id: str, phone_number: str | None = None) -> dict[str, Any]:
    return {
        "id": store_id,
        "name": STORES[store_id]["name"],
        "country_code": STORES[store_id]["country_code"],
        "phone_number": phone_number,
        "channels": {
            "sms": {
                "status": "onboarded" if phone_number else "not_onboarded",
                "pending_phone_number": None,
                "last_error": None,
            },
            "whatsapp": NO_WHATSAPP,
        },
    }


def _not_required() -> dict[str, Any]:
    return {
        "required": False,
        "status": "not_required",
        "bundle_id": None,
        "failure_reason": None,
        "uploads": [],
    }


def _no_product() -> dict[str, Any]:
    return {
        "required": False,
        "status": "not_required",
        "product_id": None,
        "failure_reason": None,
        "uploads": [],
    }


def _approved_bundle(emulator: EmulatorServer, bundle: Bundle) -> dict[str, Any]:
    return {
        "required": True,
        "status": "twilio-approved",
        "bundle_id": bundle.sid,
        "failure_reason": None,
        "uploads": bundle_uploads(
            emulator,
            bundle,
            [
                ("Business registration", "approved"),
                ("Proof of address", "approved"),
            ],
        ),
    }


def test_six_countries_at_six_steps(api: Api, service: Service, emulator: EmulatorServer) -> None:
    for store_id, fields in STORES.items():
        assert api.put(f"/clienteling/stores/{store_id}", json=fields).status_code == 201
    config = enable(api)
    account = config["twilio"]["sid"]
    opt_in = api.put("/clienteling/opt-in-template", json={"body": "Reply YES for Dodici news."})
    assert opt_in.status_code == 201, opt_in.text

    # GB: approved bundle (synchronised when clienteling was enabled), store onboarded with it.
    gb_bundle = emulator_bundle(emulator, account, "GB", "mobile", "twilio-approved")
    listed = api.get("/clienteling/stores/gb-lon/regulatory-bundles").json()
    address_sid = next(b["address_sid"] for b in listed if b["sid"] == gb_bundle.sid)
    gb_number = available_number(api, "gb-lon")
    onboarded = api.post(
        "/clienteling/stores/gb-lon/onboard",
        json={"phone_number": gb_number, "bundle_sid": gb_bundle.sid, "address_sid": address_sid},
    )
    assert onboarded.status_code == 201, onboarded.text

    # NL: the bundle goes back to review; Twilio tells us through the signed status callback.
    nl_bundle = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status_callback(
        account, nl_bundle.sid, service.base_url + BUNDLE_CALLBACK_PATH
    )
    emulator.state.set_bundle_status(account, nl_bundle.sid, "pending-review")
    assert emulator.state.callbacks[-1].status_code == 204

    # US: no usable A2P trust product (one draft, one rejected); picked up by reconciliation.
    a2p = trust_product(emulator, account, "A2P Messaging Profile")
    emulator.state.set_trust_product_status(account, a2p.sid, "draft")
    secondary = trust_product(emulator, account, "Secondary Customer Profile")
    emulator.state.set_trust_product_status(account, secondary.sid, "twilio-rejected")
    report = SyncReport()
    sync_tenant(service.runtime, "acme", report)
    assert report.done == ["acme"], report

    # A second tenant that has stores but has not enabled clienteling.
    other = api.request(
        "PUT",
        "/clienteling/stores/de-ber",
        json={"name": "Globex Berlin", "country_code": "DE", "locality": "Berlin"},
        headers=api.headers("globex", service.token("globex")),
    )
    assert other.status_code == 201, other.text

    emulator.state.clear_requests()
    doc = api.get("/clienteling/onboarding-status").json()
    globex = api.request(
        "GET",
        "/clienteling/onboarding-status",
        headers=api.headers("globex", service.token("globex")),
    ).json()
    assert emulator.state.requests == []

    with transaction(service.runtime.sessions) as session:
        tenant = session.get(Tenant, "acme")
        assert tenant is not None
        assert tenant.onboarded_at is not None
        onboarded_at = tenant.onboarded_at.isoformat().replace("+00:00", "Z")

    expected = {
        "tenant": "acme",
        "onboarded": True,
        "onboarded_at": onboarded_at,
        "disabling": None,  # no disabling under way (issue 14)
        # The account's numbers (issue 14): the GB store's, listed by the sync; no orphan.
        "numbers": {"owned": 1, "orphans": 0, "orphan_monthly_cost": None},
        "actions": [],
        "twilio": {
            "connected": True,
            "sid": account,
            "call_forwarding": {
                "sid": config["twilio"]["call_forwarding"]["sid"],
                "name": config["twilio"]["call_forwarding"]["name"],
            },
        },
        "opt_in": {
            "exists": True,
            "id": opt_in.json()["id"],
            "body": "Reply YES for Dodici news.",
        },
        "countries": [
            {
                "country_code": "CA",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": _not_required(),
                "trusted_product": _no_product(),
                "actions": ["onboard_stores"],
            },
            {
                "country_code": "GB",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": _approved_bundle(emulator, gb_bundle),
                "trusted_product": _no_product(),
                "actions": [],
            },
            {
                "country_code": "IE",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": {
                    "required": True,
                    "status": "missing",
                    "bundle_id": None,
                    "failure_reason": None,
                    "uploads": [],
                },
                "trusted_product": _no_product(),
                "actions": ["create_regulatory_bundle"],
            },
            {
                "country_code": "JP",
                "stores": 1,
                "number_availability": {"supported": False},
                "regulatory_bundle": _not_required(),
                "trusted_product": _no_product(),
                "actions": ["country_not_supported"],
            },
            {
                "country_code": "NL",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": {
                    "required": True,
                    "status": "pending-review",
                    "bundle_id": nl_bundle.sid,
                    "failure_reason": None,
                    "uploads": bundle_uploads(
                        emulator,
                        nl_bundle,
                        [
                            ("Business registration", "pending-review"),
                            ("Proof of address", "approved"),
                        ],
                    ),
                },
                "trusted_product": _no_product(),
                "actions": ["await_bundle_review"],
            },
            {
                "country_code": "US",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": _not_required(),
                # Only the A2P chain counts: neither product above is under the A2P
                # messaging-profile policy, and there is no business profile yet.
                "trusted_product": {
                    "required": True,
                    "status": "missing",
                    "product_id": None,
                    "failure_reason": None,
                    "uploads": [],
                },
                "actions": ["submit_business_profile", "onboard_stores"],
            },
        ],
        "stores": [
            _store("ca-tor"),
            _store("gb-lon", gb_number),
            _store("ie-dub"),
            _store("jp-tyo"),
            _store("nl-ams"),
            _store("us-nyc"),
        ],
        "onboarding_job": None,  # beyond the reference: no bulk job was started
    }
    # Beyond the reference: how fresh the Twilio state is (the pass above read it).
    reconciled = doc.pop("reconciliation")
    assert reconciled["last_succeeded_at"] is not None
    assert reconciled["lag_seconds"] >= 0
    assert doc == expected

    assert globex == {
        "tenant": "globex",
        "onboarded": False,
        "onboarded_at": None,
        "disabling": None,
        "numbers": {"owned": 0, "orphans": 0, "orphan_monthly_cost": None},
        "actions": [],
        "twilio": {"connected": False, "sid": None, "call_forwarding": {"sid": None, "name": None}},
        "opt_in": {"exists": False, "id": None, "body": None},
        "countries": [
            {
                "country_code": "DE",
                "stores": 1,
                "number_availability": {"supported": True},
                "regulatory_bundle": {
                    "required": True,
                    "status": "missing",
                    "bundle_id": None,
                    "failure_reason": None,
                    "uploads": [],
                },
                "trusted_product": _no_product(),
                "actions": ["enable_clienteling"],
            }
        ],
        "stores": [
            {
                "id": "de-ber",
                "name": "Globex Berlin",
                "country_code": "DE",
                "phone_number": None,
                "channels": {
                    "sms": {
                        "status": "not_onboarded",
                        "pending_phone_number": None,
                        "last_error": None,
                    },
                    "whatsapp": NO_WHATSAPP,
                },
            }
        ],
        "onboarding_job": None,
        "reconciliation": {"last_succeeded_at": None, "lag_seconds": None},  # never enabled
    }
