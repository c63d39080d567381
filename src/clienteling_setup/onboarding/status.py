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
    return min(records, key=lambda r: (_RANK.get(r.status, 9), -r.updated_at.timestamp()))


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


def build_status(session: Session, tenant_id: str) -> dict[str, Any]:
    tenant = session.get(Tenant, tenant_id)
    opt_in = session.get(OptInTemplate, tenant_id)
    connected = tenant is not None and tenant.subaccount_status == "active"

    rows = session.execute(
        select(
            Store.id,
            Store.name,
            Store.country_code,
            StoreOnboarding.phone_number,
            StoreOnboarding.status,
            WhatsAppSenderRecord.sender_sid,
            WhatsAppSenderRecord.status,
            WhatsAppSenderRecord.waba_id,
            WhatsAppSenderRecord.quality_rating,
            WhatsAppSenderRecord.messaging_limit,
            WhatsAppSenderRecord.offline_reasons,
            WhatsAppSenderRecord.phone_number,
        )
        .outerjoin(
            StoreOnboarding,
            (StoreOnboarding.tenant_id == Store.tenant_id) & (StoreOnboarding.store_id == Store.id),
        )
        .outerjoin(
            WhatsAppSenderRecord,
            (WhatsAppSenderRecord.tenant_id == Store.tenant_id)
            & (WhatsAppSenderRecord.store_id == Store.id),
        )
        .where(Store.tenant_id == tenant_id)
        .order_by(Store.id)
    ).all()

    stores: list[dict[str, Any]] = []
    per_country: Counter[str] = Counter()
    onboarded_per_country: Counter[str] = Counter()
    for (
        sid_,
        name,
        cc,
        number,
        sms_state,
        w_sid,
        w_status,
        waba,
        quality,
        limit,
        offline,
        w_number,
    ) in rows:
        per_country[cc] += 1
        onboarded = sms_state == "onboarded"
        if onboarded:
            onboarded_per_country[cc] += 1
        stores.append(
            {
                "id": sid_,
                "name": name,
                "country_code": cc,
                "phone_number": number if onboarded else None,
                "channels": {
                    "sms": {
                        "status": "onboarded"
                        if onboarded
                        else ("pending" if sms_state else "not_onboarded")
                    },
                    "whatsapp": {
                        "sid": w_sid,
                        "status": (w_status or "not_onboarded").lower(),
                        "waba": waba,
                        "quality_rating": quality,
                        "messaging_limit": limit,
                        "offline_reasons": list(offline or []),
                        "phone_number": w_number,
                    },
                },
            }
        )

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
        bundle: BundleRecord | None = _best(bundles_by_country.get(cc, []))
        rule = rules.get(cc.strip().upper())
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
