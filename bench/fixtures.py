"""Benchmark fixtures: tenants with many stores, inserted straight into a fresh database.

Each tenant's directory spans 30 countries (26 of the rules table, 4 the service does not
support) with a realistic mix: about half the stores onboarded for SMS, a tenth with an
onboarding in progress, a quarter of the onboarded ones on WhatsApp (online, creating,
offline), and per country bundles in several states with their supporting documents.
The data is deterministic (a seeded random generator) so runs compare.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

from clienteling_setup.compliance.models import BundleRecord, TrustProductRecord
from clienteling_setup.db import migrate
from clienteling_setup.numbers.models import NumberClaim, OwnedNumberRecord
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.status.fragments import repair
from clienteling_setup.stores.models import Store
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

# 26 countries of the rules table and 4 it does not know (stores there are unsupported).
COUNTRIES = (
    "US CA GB DE FR NL ES IT AU AT BE CH DK FI IE NO PL PT SE HK AE BR JP MX NZ SG "
    "ZA IN KR CN".split()
)
# Larger markets get more stores: weights roughly like a global fashion retailer's footprint.
WEIGHTS = [30, 6, 10, 10, 8, 4, 6, 6, 4] + [2] * 17 + [1] * 4
BUNDLE_STATES = ("twilio-approved", "pending-review", "in-review", "twilio-rejected", "draft")
SENDER_STATES = ("ONLINE", "ONLINE", "ONLINE", "CREATING", "OFFLINE")


def _sid(prefix: str, *parts: object) -> str:
    return prefix + hashlib.md5(repr(parts).encode()).hexdigest()


def _documents(rng: random.Random, count: int, now: datetime) -> list[dict[str, str | None]]:
    stamp = (now - timedelta(days=rng.randint(1, 90))).isoformat().replace("+00:00", "Z")
    return [
        {
            "sid": f"RD{rng.getrandbits(128):032x}",
            "name": rng.choice(("Business registration", "Proof of address", "ID of signatory")),
            "status": rng.choice(("approved", "approved", "pending-review", "draft")),
            "created_at": stamp,
            "updated_at": stamp,
        }
        for _ in range(count)
    ]


def tenant_rows(tenant_id: str, stores: int, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    """All rows of one tenant, by table."""
    rng = random.Random(f"{seed}:{tenant_id}")
    now = datetime.now(UTC)
    rows: dict[str, list[dict[str, Any]]] = {
        "tenants": [
            {
                "id": tenant_id,
                "ecom_link": f"https://www.{tenant_id}.example",
                "subaccount_sid": _sid("AC", tenant_id),
                "subaccount_status": "active",
                "auth_token_encrypted": "not-a-real-token",
                "messaging_service_sid": _sid("MG", tenant_id),
                "voice_app_sid": _sid("AP", tenant_id),
                "voice_app_name": f"{tenant_id} call forwarding",
                "onboarded_at": now - timedelta(days=120),
                "created_at": now,
                "updated_at": now,
            }
        ],
        "opt_in": [
            {
                "tenant_id": tenant_id,
                "id": f"optin-{tenant_id}",
                "body": "Reply YES to get messages from us. Reply STOP to opt out.",
                "created_at": now,
                "updated_at": now,
            }
        ],
        "stores": [],
        "onboardings": [],
        "senders": [],
        "bundles": [],
        "trust_products": [],
        # As reconciliation leaves them: each store's number claimed and listed as owned, and
        # a few numbers bought by hand (orphans, in the status's `numbers`).
        "claims": [],
        "owned_numbers": [],
    }
    countries = rng.choices(COUNTRIES, weights=WEIGHTS, k=stores)
    for i, cc in enumerate(countries):
        store_id = f"{cc.lower()}-store-{i:05d}"
        rows["stores"].append(
            {
                "tenant_id": tenant_id,
                "id": store_id,
                "name": f"{tenant_id.title()} {cc} #{i}",
                "country_code": cc,
                "region": None,
                "locality": f"City {i % 97}",
                "postal_code": f"{10000 + i % 89999}",
                "phone": f"+1555{i:07d}",
                "latitude": None,
                "longitude": None,
                "created_at": now,
                "updated_at": now,
            }
        )
        roll = rng.random()
        if roll < 0.6:
            onboarded = roll < 0.5
            rows["onboardings"].append(
                {
                    "tenant_id": tenant_id,
                    "store_id": store_id,
                    "phone_number": f"+1999{i:07d}",
                    "kind": "dedicated",
                    "sender_group_id": None,
                    "bundle_sid": None,
                    "address_sid": None,
                    "already_purchased": False,
                    "messaging_service_sid": _sid("MG", tenant_id),
                    "number_sid": _sid("PN", tenant_id, i),
                    "step": "onboarded" if onboarded else "number_owned",
                    "status": "onboarded" if onboarded else "in_progress",
                    "last_error": None,
                    "enabled": onboarded,
                    "onboarded_at": now - timedelta(days=30) if onboarded else None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows["claims"].append(
                {
                    "tenant_id": tenant_id,
                    "phone_number": f"+1999{i:07d}",
                    "store_id": store_id,
                    "channel": "sms",
                    "created_at": now,
                }
            )
            rows["owned_numbers"].append(_owned(tenant_id, f"+1999{i:07d}", i, now))
            if onboarded and rng.random() < 0.25:
                status = rng.choice(SENDER_STATES)
                rows["senders"].append(
                    {
                        "tenant_id": tenant_id,
                        "store_id": store_id,
                        "phone_number": f"+1999{i:07d}",
                        "number_sid": _sid("PN", tenant_id, i),
                        "sender_sid": _sid("XE", tenant_id, i),
                        "waba_id": "1234567890",
                        "status": status,
                        "quality_rating": "HIGH" if status == "ONLINE" else None,
                        "messaging_limit": "TIER_1K" if status == "ONLINE" else None,
                        "offline_reasons": None,
                        "profile": {"name": f"{tenant_id} {store_id}"},
                        "last_error": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    for k in range(max(1, stores // 200)):
        rows["owned_numbers"].append(_owned(tenant_id, f"+1888{k:07d}", -1 - k, now))
    for cc in COUNTRIES:
        for k in range(rng.randint(1, 3)):
            status = rng.choice(BUNDLE_STATES)
            rows["bundles"].append(
                {
                    "tenant_id": tenant_id,
                    "sid": _sid("BU", tenant_id, cc, k),
                    "iso_country": cc,
                    "friendly_name": f"{cc} mobile bundle {k}",
                    "status": status,
                    "failure_reason": "Document unreadable"
                    if status == "twilio-rejected"
                    else None,
                    "address_sid": _sid("AD", tenant_id, cc),
                    "documents": _documents(rng, 2, now),
                    "synced_at": now,
                    "created_at": now - timedelta(days=k),
                    "updated_at": now - timedelta(days=k),
                }
            )
    for k, status in enumerate(("twilio-approved", "in-review")):
        rows["trust_products"].append(
            {
                "tenant_id": tenant_id,
                "sid": _sid("BU", tenant_id, "trust", k),
                "friendly_name": ("Secondary Customer Profile", "A2P Messaging Profile")[k],
                "status": status,
                "policy_sid": None,
                "documents": _documents(rng, 2, now),
                "synced_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _owned(tenant_id: str, phone_number: str, i: int, now: datetime) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id,
        "number_sid": _sid("PN", tenant_id, i),
        "phone_number": phone_number,
        "friendly_name": f"clienteling:{tenant_id}",
        "iso_country": "US",
        "number_type": "local",
        "monthly_price": "1.15",
        "price_unit": "USD",
        "listed_at": now,
        "updated_at": now,
    }


TABLES: dict[str, Any] = {
    "tenants": Tenant,
    "opt_in": OptInTemplate,
    "stores": Store,
    "onboardings": StoreOnboarding,
    "senders": WhatsAppSenderRecord,
    "bundles": BundleRecord,
    "trust_products": TrustProductRecord,
    "claims": NumberClaim,
    "owned_numbers": OwnedNumberRecord,
}


def load(database_url: str, tenants: dict[str, int]) -> dict[str, dict[str, int]]:
    """Migrate a fresh database and bulk-insert each tenant (id -> number of stores)."""
    migrate.upgrade(database_url)
    engine = create_engine(database_url)
    counts: dict[str, dict[str, int]] = {}
    try:
        with engine.begin() as conn:
            for tenant_id, stores in tenants.items():
                rows = tenant_rows(tenant_id, stores)
                counts[tenant_id] = {table: len(values) for table, values in rows.items()}
                for table, model in TABLES.items():
                    values = rows[table]
                    for start in range(0, len(values), 2000):
                        conn.execute(insert(model), values[start : start + 2000])
        # The status document's stored per-store entries, as the service keeps them.
        with Session(engine) as session:
            for tenant_id in tenants:
                repair(session, tenant_id)
            session.commit()
        if engine.dialect.name == "postgresql":
            # Planner statistics of the tables just filled, as autovacuum would gather them
            # within a minute: without them a read of 10,000 rows plans for a few dozen.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()
    return counts
