"""Reconciliation: refresh the read model from Twilio and finish interrupted onboardings.

One runner per tenant at a time (a lease in the database, so several server processes and
`clienteling-setup sync` can run together); a failure for one tenant does not stop the others.
"""

from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass, field

from sqlalchemy import delete

from clienteling_setup.compliance.models import BundleRecord, TrustProductRecord
from clienteling_setup.db import leases
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.onboarding.service import resume_unfinished
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    ProviderError,
    SupportingDocument,
)
from clienteling_setup.runtime import Runtime
from clienteling_setup.tenants.models import Tenant
from clienteling_setup.tenants.repository import all_tenants
from clienteling_setup.whatsapp.reconcile import refresh_senders

log = logging.getLogger("clienteling_setup.sync")
LEASE_SECONDS = 300


@dataclass
class SyncReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        out = [f"synchronised: {t}" for t in self.done]
        out += [f"skipped (another runner holds it): {t}" for t in self.skipped]
        out += [f"failed: {t}: {reason}" for t, reason in self.failed.items()]
        return out


def _documents(docs: list[SupportingDocument]) -> list[dict[str, str | None]]:
    return [
        {
            "sid": d.sid,
            "name": d.friendly_name,
            "status": d.status,
            "created_at": d.date_created,
            "updated_at": d.date_updated,
        }
        for d in docs
    ]


def sync_all(runtime: Runtime, *, only: str | None = None, progress: bool = False) -> SyncReport:
    with transaction(runtime.sessions) as session:
        tenants = [t.id for t in all_tenants(session) if only is None or t.id == only]
    report = SyncReport()
    if progress:
        import click

        with click.progressbar(tenants, label="Synchronising tenants", file=sys.stderr) as bar:
            for tenant_id in bar:
                sync_tenant(runtime, tenant_id, report)
    else:
        for tenant_id in tenants:
            sync_tenant(runtime, tenant_id, report)
    return report


def sync_tenant(runtime: Runtime, tenant_id: str, report: SyncReport) -> None:
    holder = leases.new_holder()
    name = f"sync:{tenant_id}"
    if not leases.acquire(runtime.sessions, name, holder, LEASE_SECONDS):
        report.skipped.append(tenant_id)
        return
    try:
        _sync(runtime, tenant_id)
        report.done.append(tenant_id)
    except ProviderError as exc:
        log.warning("sync failed", extra={"tenant": tenant_id, "error": exc.message})
        report.failed[tenant_id] = exc.message
    except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
        log.exception("sync crashed", extra={"tenant": tenant_id})
        report.failed[tenant_id] = f"{type(exc).__name__}: {exc}"
    finally:
        leases.release(runtime.sessions, name, holder)


def _sync(runtime: Runtime, tenant_id: str) -> None:
    gateway = runtime.gateway
    with transaction(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        if tenant is None:
            return
        account = runtime.credentials(tenant.subaccount_sid, tenant.auth_token_encrypted)
        subaccount_sid = tenant.subaccount_sid
    subaccount = gateway.fetch_subaccount(subaccount_sid)
    with transaction(runtime.sessions) as session:
        row = session.get(Tenant, tenant_id)
        if row is not None and row.subaccount_status != subaccount.status:
            row.subaccount_status = subaccount.status
    sync_compliance(runtime, tenant_id, account)
    refresh_senders(runtime, tenant_id, account)
    resume_unfinished(runtime, tenant_id)


def sync_compliance(runtime: Runtime, tenant_id: str, account: AccountCredentials) -> None:
    """Replace the tenant's bundles and trust products with what Twilio has now."""
    gateway = runtime.gateway
    bundles = [
        (
            b,
            gateway.bundle_address_sid(account, b.sid),
            gateway.list_bundle_documents(account, b.sid),
        )
        for b in gateway.list_bundles(account)
    ]
    products = [
        (p, gateway.list_trust_product_documents(account, p.sid))
        for p in gateway.list_trust_products(account)
    ]
    now = utcnow()
    with transaction(runtime.sessions) as session:
        session.execute(delete(BundleRecord).where(BundleRecord.tenant_id == tenant_id))
        session.execute(delete(TrustProductRecord).where(TrustProductRecord.tenant_id == tenant_id))
        for bundle, address_sid, docs in bundles:
            session.add(
                BundleRecord(
                    tenant_id=tenant_id,
                    sid=bundle.sid,
                    iso_country=bundle.iso_country,
                    friendly_name=bundle.friendly_name,
                    status=bundle.status,
                    failure_reason=bundle.failure_reason,
                    address_sid=address_sid,
                    documents=_documents(docs),
                    synced_at=now,
                )
            )
        for product, docs in products:
            session.add(
                TrustProductRecord(
                    tenant_id=tenant_id,
                    sid=product.sid,
                    friendly_name=product.friendly_name,
                    status=product.status,
                    policy_sid=product.policy_sid,
                    documents=_documents(docs),
                    synced_at=now,
                )
            )
    runtime.list_cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == (tenant_id,))


class PeriodicSync:
    """The in-process reconciliation job: one pass every `interval` seconds."""

    def __init__(self, runtime: Runtime, interval: float) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="periodic-sync", daemon=True)

    def start(self) -> None:
        if self.interval > 0:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                sync_all(self.runtime)
            except Exception:  # noqa: BLE001 - the job must outlive a bad pass
                log.exception("periodic sync pass failed")
