"""The onboarding status read model: assembled from the database only, never from Twilio.

Bundles, trust products and senders are kept current by Twilio callbacks and reconciliation;
this module only reads. It builds plain dicts (not models) because a large tenant has
thousands of stores and this is the most-read document of the service.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clienteling_setup.compliance.actions import (
    BundleFacts,
    ComplianceItem,
    CountryFacts,
    DocumentFacts,
    TrustProductFacts,
    derive_country_status,
)
from clienteling_setup.compliance.models import BundleRecord, TrustProductRecord
from clienteling_setup.compliance.requirements import effective_rules
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

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


def _item(item: ComplianceItem, id_key: str) -> dict[str, Any]:
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
    session: Session, tenant_id: str
) -> tuple[list[dict[str, Any]], Counter[str], Counter[str]]:
    """Every store with its channels, and the store counts per country.

    Three range scans of the tenant's rows (stores, onboardings, senders) merged in Python:
    cheaper than a join that looks each store up in two indexes. Core rows (no ORM loading),
    and the channel objects stores have in common are built once per document.
    """
    conn = session.connection()
    onboardings = {
        store_id: (number, state)
        for store_id, number, state in conn.execute(
            select(
                StoreOnboarding.store_id, StoreOnboarding.phone_number, StoreOnboarding.status
            ).where(StoreOnboarding.tenant_id == tenant_id)
        )
    }
    senders = {
        store_id: {
            "sid": w_sid,
            "status": (w_status or "not_onboarded").lower(),
            "waba": waba,
            "quality_rating": quality,
            "messaging_limit": limit,
            "offline_reasons": list(offline or []),
            "phone_number": w_number,
        }
        for store_id, w_sid, w_status, waba, quality, limit, offline, w_number in conn.execute(
            select(
                WhatsAppSenderRecord.store_id,
                WhatsAppSenderRecord.sender_sid,
                WhatsAppSenderRecord.status,
                WhatsAppSenderRecord.waba_id,
                WhatsAppSenderRecord.quality_rating,
                WhatsAppSenderRecord.messaging_limit,
                WhatsAppSenderRecord.offline_reasons,
                WhatsAppSenderRecord.phone_number,
            ).where(WhatsAppSenderRecord.tenant_id == tenant_id)
        )
    }
    no_whatsapp: dict[str, Any] = {
        "sid": None,
        "status": "not_onboarded",
        "waba": None,
        "quality_rating": None,
        "messaging_limit": None,
        "offline_reasons": [],
        "phone_number": None,
    }
    sms = {state: {"status": state} for state in ("onboarded", "pending", "not_onboarded")}
    # Stores without a WhatsApp sender share their channels object (one per SMS state).
    shared = {state: {"sms": value, "whatsapp": no_whatsapp} for state, value in sms.items()}

    stores: list[dict[str, Any]] = []
    append = stores.append
    per_country: Counter[str] = Counter()
    onboarded_per_country: Counter[str] = Counter()
    no_onboarding = (None, None)
    for store_id, name, cc in conn.execute(
        select(Store.id, Store.name, Store.country_code)
        .where(Store.tenant_id == tenant_id)
        .order_by(Store.id)
    ):
        per_country[cc] += 1
        number, sms_state = onboardings.get(store_id, no_onboarding)
        if sms_state == "onboarded":
            onboarded_per_country[cc] += 1
            state = "onboarded"
        else:
            number = None
            state = "pending" if sms_state else "not_onboarded"
        whatsapp = senders.get(store_id)
        append(
            {
                "id": store_id,
                "name": name,
                "country_code": cc,
                "phone_number": number,
                "channels": shared[state]
                if whatsapp is None
                else {"sms": sms[state], "whatsapp": whatsapp},
            }
        )
    return stores, per_country, onboarded_per_country


def build_status(session: Session, tenant_id: str) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    opt_in = session.get(OptInTemplate, tenant_id)
    connected = tenant is not None and tenant.subaccount_status == "active"

    stores, per_country, onboarded_per_country = _stores(session, tenant_id)

    bundles_by_country: dict[str, list[BundleRecord]] = {}
    for record in session.scalars(select(BundleRecord).where(BundleRecord.tenant_id == tenant_id)):
        bundles_by_country.setdefault(record.iso_country or "", []).append(record)
    trust = _best(
        list(
            session.scalars(
                select(TrustProductRecord).where(TrustProductRecord.tenant_id == tenant_id)
            )
        )
    )

    # The rules table with the bundle requirements sync last refreshed from Twilio.
    rules = effective_rules(session)
    countries = []
    for cc in sorted(per_country):
        rule = rules.get(cc.strip().upper())
        bundle: BundleRecord | None = _best(
            _country_bundles(
                bundles_by_country.get(cc, []), rule.sms_number_type if rule is not None else None
            )
        )
        product = trust if rule is not None and rule.trust_product_required else None
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
            trust_product=TrustProductFacts(
                status=product.status, sid=product.sid, documents=_documents(product.documents)
            )
            if product is not None
            else None,
            opt_in_exists=opt_in is not None,
        )
        status = derive_country_status(facts, rules)
        countries.append(
            {
                "country_code": cc,
                "stores": status.stores,
                "number_availability": {"supported": status.number_availability_supported},
                "regulatory_bundle": _item(status.regulatory_bundle, "bundle_id"),
                "trusted_product": _item(status.trusted_product, "product_id"),
                "actions": status.actions,
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
        "stores": stores,
    }
