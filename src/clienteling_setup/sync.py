"""Reconciliation: refresh the read model from Twilio and finish interrupted onboardings.

One runner per tenant at a time (a lease in the database, so several server processes and
`clienteling-setup sync` can run together); a failure for one tenant does not stop the others.

A pass costs what changed: the subaccounts' statuses come from one list for the whole pass,
each tenant's bundles, trust products and owned phone numbers from one list call each (per
page of Twilio's), and the details (documents, address) only of those not settled in a final
state (see `compliance.records`); Twilio's regulations at most hourly
(`refresh_regulations_once`). Tenants run
`Settings.sync_concurrency` at a time; a tenant another process holds is skipped, not waited
for. A 429 is retried by the gateway in the thread of the tenant (the account) it came from,
so it slows that account and not the pass.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from prometheus_client.core import GaugeMetricFamily, Metric

from clienteling_setup import errors
from clienteling_setup.a2p.registration import Isv as A2PIsv
from clienteling_setup.a2p.registration import reconcile as reconcile_a2p
from clienteling_setup.cache import TTLCache
from clienteling_setup.compliance import records
from clienteling_setup.compliance.rules import load_rules, merge_regulations
from clienteling_setup.config import Settings
from clienteling_setup.db.base import utcnow
from clienteling_setup.offboarding.disabling import resume_disabling
from clienteling_setup.offboarding.service import resume_offboardings
from clienteling_setup.onboarding.service import resume_unfinished
from clienteling_setup.orphans.service import refresh_owned_numbers, resume_releases
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    ProviderError,
    ProviderUnavailable,
)
from clienteling_setup.status.fragments import repair_tenant
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.reconcile import refresh_senders
from clienteling_setup.workflow.core import try_exclusive

log = logging.getLogger("clienteling_setup.sync")


#: A whole tenant's pass holds its lease this long (one runner per tenant, across processes).
SYNC_LEASE = 300
_LOST = errors.Conflict("Another reconciliation runner took this tenant over.")


class SyncPorts(Protocol):
    """What reconciliation works with (the runtime built by the composition root has them)."""

    @property
    def uows(self) -> UnitsOfWork: ...
    @property
    def gateway(self) -> MessagingGateway: ...
    @property
    def primary_customer_profile_sid(self) -> str | None: ...
    @property
    def public_base_url(self) -> str: ...
    @property
    def list_cache(self) -> TTLCache: ...
    @property
    def settings(self) -> Settings: ...


@dataclass
class SyncReport:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    regulations: str | None = None

    def lines(self) -> list[str]:
        out = [self.regulations] if self.regulations else []
        out += [f"synchronised: {t}" for t in self.done]
        out += [f"skipped (another runner holds it): {t}" for t in self.skipped]
        out += [
            f"skipped (synchronised by another runner during this pass): {t}" for t in self.current
        ]
        out += [f"failed: {t}: {reason}" for t, reason in self.failed.items()]
        return out


def sync_all(ports: SyncPorts, *, only: str | None = None, progress: bool = False) -> SyncReport:
    # A tenant whose last pass began after this one did is current: another runner (a second
    # server process, `clienteling-setup sync`) did it meanwhile, and it is not done twice.
    began = utcnow()
    with ports.uows.platform() as platform:
        tenants = [t for t in platform.tenants.ids() if only is None or t == only]
    report = SyncReport()
    try:
        report.regulations = refresh_regulations_once(ports, tenants)
    except Exception as exc:  # noqa: BLE001 - the table stays the fallback; tenants still sync
        log.exception("regulations refresh crashed")
        report.regulations = f"regulations: not refreshed ({type(exc).__name__}: {exc})"
    subaccounts = subaccount_statuses(ports, tenants)

    def one(tenant_id: str) -> None:
        sync_tenant(ports, tenant_id, report, subaccounts=subaccounts, current_since=began)

    workers = max(1, min(ports.settings.sync_concurrency, len(tenants)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        finished = pool.map(one, tenants)
        if progress:
            import click

            with click.progressbar(
                finished, length=len(tenants), label="Synchronising tenants", file=sys.stderr
            ) as bar:
                for _ in bar:
                    pass
        else:
            for _ in finished:
                pass
    report.done.sort()
    report.skipped.sort()
    report.current.sort()
    return report


def subaccount_statuses(ports: SyncPorts, tenant_ids: list[str]) -> Mapping[str, str] | None:
    """Every subaccount's status by SID, from one list call per 1,000 subaccounts, when the
    pass covers several tenants; None (each tenant fetches its own) for a single tenant or
    when the list fails."""
    if len(tenant_ids) < 2:
        return None
    try:
        return {sub.sid: sub.status for sub in ports.gateway.list_subaccounts()}
    except ProviderError as exc:
        log.warning("subaccounts not listed, fetched per tenant", extra={"error": exc.message})
        return None


def sync_tenant(
    ports: SyncPorts,
    tenant_id: str,
    report: SyncReport,
    *,
    subaccounts: Mapping[str, str] | None = None,
    current_since: datetime | None = None,
) -> None:
    """One tenant's pass under its lease (skipped when another runner holds it, or when a
    pass that began at or after `current_since` already succeeded).
    `subaccounts`: the pass's subaccount statuses by SID (see `subaccount_statuses`)."""
    # The failure is caught outside the lease's block, so the workflow core counts it.
    try:
        with try_exclusive(ports.uows, f"sync:{tenant_id}", lost=_LOST, seconds=SYNC_LEASE) as run:
            if run is None:
                report.skipped.append(tenant_id)
                return
            began = utcnow()
            if current_since is not None:
                with ports.uows.of(tenant_id) as uow:
                    last = uow.tenants.last_reconciled()
                if last is not None and last >= current_since:
                    report.current.append(tenant_id)
                    return
            if _sync(ports, tenant_id, subaccounts):
                with ports.uows.of(tenant_id) as uow:
                    # When the pass began: what Twilio said is at least this fresh (the lag).
                    uow.tenants.record_reconciled(began)
        report.done.append(tenant_id)
    except ProviderError as exc:
        log.warning("sync failed", extra={"tenant": tenant_id, "error": exc.message})
        report.failed[tenant_id] = exc.message
    except Exception as exc:  # noqa: BLE001 - one tenant's failure must not stop the others
        log.exception("sync crashed", extra={"tenant": tenant_id})
        report.failed[tenant_id] = f"{type(exc).__name__}: {exc}"


def _sync(ports: SyncPorts, tenant_id: str, subaccounts: Mapping[str, str] | None) -> bool:
    """One pass over the tenant; False when it is not (or no longer) enabled."""
    gateway, uows = ports.gateway, ports.uows
    if resume_disabling(uows, gateway, tenant_id):
        return False  # being taken down: nothing else to refresh
    with uows.of(tenant_id) as uow:
        tenant = uow.tenants.get()
        if tenant is None:
            return False
        account = uow.tenants.account(tenant)
    status = subaccounts.get(account.account_sid) if subaccounts is not None else None
    if status is None:
        status = gateway.fetch_subaccount(account.account_sid).status
    with uows.of(tenant_id) as uow:
        row = uow.tenants.get()
        if row is not None and row.subaccount_status != status:
            row.subaccount_status = status
    sync_compliance(ports, tenant_id, account)
    # Offboardings first: a sender an interrupted offboarding deleted is no longer to refresh.
    resume_offboardings(uows, gateway, tenant_id)
    refresh_senders(uows, gateway, tenant_id, account)
    resume_unfinished(uows, gateway, tenant_id)
    # US A2P 10DLC: read the reviews under way (only those), then go on where one ended
    # (campaigns once the brand is approved, one for each sender group created since).
    isv = A2PIsv(ports.primary_customer_profile_sid, ports.public_base_url)
    reconcile_a2p(uows, gateway, tenant_id, isv)
    # After what finishes releasing numbers, so the list is as current as it gets; the orphans
    # among the numbers it records are decided when read (`orphans.repository`).
    resume_releases(uows, gateway, tenant_id)
    refresh_owned_numbers(uows, gateway, tenant_id, account)
    # Stored status entries a write bypassed (or a database from before them) are rebuilt.
    repair_tenant(uows, tenant_id)
    return True


def sync_compliance(ports: SyncPorts, tenant_id: str, account: AccountCredentials) -> None:
    """Bring the tenant's bundles and trust products up to what Twilio has now (upserts that
    keep rows a callback wrote meanwhile; see `compliance.records`)."""
    with ports.uows.of(tenant_id) as uow:
        settled_bundles = records.settled(uow.compliance.bundles())
        settled_products = records.settled(uow.compliance.trust_products())
    read_since = utcnow()
    bundles, products = records.fetch_all(
        ports.gateway,
        account,
        settled_bundles=settled_bundles,
        settled_products=settled_products,
    )
    with ports.uows.of(tenant_id) as uow:
        records.store_bundles(uow.compliance, bundles, read_since=read_since, complete=True)
        records.store_trust_products(uow.compliance, products, read_since=read_since)
    ports.list_cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == (tenant_id,))


def refresh_regulations_once(ports: SyncPorts, tenant_ids: list[str]) -> str:
    """`refresh_regulations`, at most once per `regulations_refresh_seconds` and by one runner
    at a time: they are Twilio-wide and change rarely, while reading them costs a call per
    country. When they were last read is in the database, so the bound holds across server
    processes, `clienteling-setup sync` runs and restarts."""
    every = ports.settings.regulations_refresh_seconds
    # Looked at before the lease too: a pass within the hour costs one query, not a lease.
    current = _regulations_current(ports, every)
    if current is not None:
        return current
    # Not under "sync:": a tenant may be named "regulations", and its lease is "sync:<id>".
    lease = "regulations:refresh"
    with try_exclusive(ports.uows, lease, lost=_LOST, seconds=SYNC_LEASE) as run:
        if run is None:
            return "regulations: being refreshed by another runner"
        # Again under the lease: a runner that held it until a moment ago has just read them.
        current = _regulations_current(ports, every)
        if current is not None:
            return current
        return refresh_regulations(ports, tenant_ids)


def _regulations_current(ports: SyncPorts, every: float) -> str | None:
    """The report line when the regulations were read less than `every` seconds ago."""
    with ports.uows.platform() as platform:
        last = platform.requirements.last_refreshed()
    if last is None or utcnow() - last >= timedelta(seconds=every):
        return None
    return (
        f"regulations: current (last read {last:%Y-%m-%d %H:%M:%S} UTC; "
        f"read again {every:.0f} s after that)"
    )


def refresh_regulations(ports: SyncPorts, tenant_ids: list[str]) -> str:
    """Refresh each supported country's bundle requirement from Twilio's Regulations API into
    ``country_requirements``. Regulations are Twilio-wide; they are read with the credentials
    of the first tenant (of `tenant_ids`) whose subaccount is active. Returns a report line.
    A country whose call fails keeps its previous answer (or the packaged table)."""
    with ports.uows.platform() as platform:
        tenant = platform.tenants.first_active(tenant_ids)
        if tenant is None:
            return "regulations: not refreshed (no tenant with an active Twilio subaccount)"
        account = platform.tenants.account(tenant)
    began = utcnow()
    refreshed: list[str] = []
    failed: dict[str, str] = {}
    unavailable = False
    for code, rule in sorted(load_rules().items()):
        if rule.sms_number_type is None:
            continue
        try:
            found = ports.gateway.list_regulations(account, code, rule.sms_number_type)
        except ProviderError as exc:
            failed[code] = exc.message
            if isinstance(exc, ProviderUnavailable):
                unavailable = True
                break
            continue
        # An empty answer cannot lift a requirement the packaged table knows of: Twilio (and
        # the emulator) answer nothing for countries they do not sell in, and buying without
        # a bundle where one is needed only fails later, at the purchase.
        required = rule.bundle_required or merge_regulations(rule, found).bundle_required
        with ports.uows.platform() as platform:
            platform.requirements.record(
                code, number_type=rule.sms_number_type, bundle_required=required, at=utcnow()
            )
        refreshed.append(code)
    if not unavailable:
        # Twilio answered (a country it refused keeps its previous answer until the next
        # read); when it was away, the next pass tries again rather than in an hour.
        with ports.uows.platform() as platform:
            platform.requirements.record_refreshed(began)
    line = f"regulations: refreshed {len(refreshed)} countries"
    if failed:
        reasons = "; ".join(f"{code}: {reason}" for code, reason in sorted(failed.items()))
        line += f", not refreshed (table or previous answer kept): {reasons}"
    return line


def after_enable(ports: SyncPorts) -> Callable[[str, AccountCredentials], None]:
    """What enabling does next: synchronise the new tenant's bundles and trust products once,
    in the background, so the status shows them soon without enabling waiting on the dozens
    of Twilio reads it takes (issue 16: enabling answers after the calls that create the
    tenant's resources). Best effort: a Twilio failure there is logged and left to
    reconciliation; a crash before it ran is caught up by the next pass."""

    def first_sync(tenant_id: str, account: AccountCredentials) -> None:
        threading.Thread(
            target=_first_compliance_sync,
            args=(ports, tenant_id, account),
            name=f"enable-sync-{tenant_id}",
            daemon=True,
        ).start()

    return first_sync


def _first_compliance_sync(ports: SyncPorts, tenant_id: str, account: AccountCredentials) -> None:
    with try_exclusive(ports.uows, f"sync:{tenant_id}", lost=_LOST, seconds=SYNC_LEASE) as run:
        if run is None:
            return  # a runner is on it already
        began = utcnow()
        try:
            sync_compliance(ports, tenant_id, account)
        except Exception:  # noqa: BLE001 - best effort; reconciliation catches up
            log.warning("compliance sync after enabling failed", extra={"tenant": tenant_id})
            return
        # A new tenant has nothing else to reconcile: the status may say it is current.
        with ports.uows.of(tenant_id) as uow:
            uow.tenants.record_reconciled(began)


class ReconciliationLagCollector:
    """`clienteling_reconciliation_lag_seconds{tenant}` for `GET /metrics`: seconds since each
    tenant's last successful reconciliation (since its enabling, before the first). Read from
    the database at scrape time, so every process reports what any runner achieved."""

    def __init__(self, uows: UnitsOfWork) -> None:
        self._uows = uows

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "clienteling_reconciliation_lag_seconds",
            "Seconds since the tenant's last successful reconciliation pass (since it was "
            "enabled, before its first).",
            labels=["tenant"],
        )
        try:
            with self._uows.platform() as platform:
                last = platform.tenants.last_reconciled()
        except Exception:  # noqa: BLE001 - a scrape must answer while the database is away
            log.warning("reconciliation lag not collected: the database did not answer")
            last = []
        now = utcnow()
        for tenant_id, at in last:
            lag.add_metric([tenant_id], max(0.0, (now - at).total_seconds()))
        yield lag


class PeriodicSync:
    """The in-process reconciliation job: one pass every `interval` seconds."""

    def __init__(self, ports: SyncPorts, interval: float) -> None:
        self.ports = ports
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
                sync_all(self.ports)
            except Exception:  # noqa: BLE001 - the job must outlive a bad pass
                log.exception("periodic sync pass failed")
