"""Issue #16, item 4: a reconciliation pass costs what changed. Bundles and trust products in a
final state are read from their lists only, so a pass over a settled tenant makes at most 3
Twilio calls for it; a change in Twilio is still picked up by the next pass; a callback about a
final bundle makes it read in full again; two runners share the tenants without working on
one at the same time."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

from clienteling_setup.compliance.models import RegulationsRefresh
from clienteling_setup.compliance.rules import load_rules
from clienteling_setup.db.session import transaction
from clienteling_setup.sync import SyncReport, sync_all
from tests.conftest import Service
from tests.service.compliance_helpers import (
    BUNDLE_CALLBACK_PATH,
    bundle_uploads,
    emulator_bundle,
    trust_product,
)
from tests.service.helpers import enable
from tests.support import Api
from twilio_emulator import EmulatorServer

NL_STORE = {"name": "Dodici Kalverstraat", "country_code": "NL", "locality": "Amsterdam"}
TENANTS = ("acme", "globex", "initech")
REASON = "The business name on the registration does not match the end user."


def _enable_settled(api: Api, emulator: EmulatorServer) -> str:
    """A tenant with a store whose seeded bundles and trust products have all been reviewed
    (the steady state of a platform); returns its subaccount."""
    assert api.put("/clienteling/stores/nl-ams", json=NL_STORE).status_code == 201
    account = str(enable(api)["twilio"]["sid"])
    de = emulator_bundle(emulator, account, "DE", "mobile", "pending-review")
    emulator.state.set_bundle_status(account, de.sid, "twilio-approved")
    a2p = trust_product(emulator, account, "A2P Messaging Profile")
    emulator.state.set_trust_product_status(account, a2p.sid, "twilio-approved")
    return account


def _tenants(api: Api, service: Service, emulator: EmulatorServer) -> dict[str, str]:
    accounts = {}
    for tenant in TENANTS:
        client = api
        if tenant != api.tenant:
            client = Api(api.base_url, service.token(tenant), tenant, api.client)
        accounts[tenant] = _enable_settled(client, emulator)
    return accounts


def _bundle_status(api: Api, country: str) -> dict[str, object]:
    doc = api.get("/clienteling/onboarding-status").json()
    found = next(c for c in doc["countries"] if c["country_code"] == country)
    return found["regulatory_bundle"]  # type: ignore[no-any-return]


def test_a_pass_over_settled_tenants_makes_at_most_3_calls_per_tenant(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    accounts = _tenants(api, service, emulator)
    assert sync_all(service.runtime).done == sorted(TENANTS)
    emulator.state.clear_requests()

    assert sync_all(service.runtime).done == sorted(TENANTS)

    calls = Counter(r.account_sid for r in emulator.state.requests)
    for tenant, account in accounts.items():
        assert calls[account] <= 3, (tenant, [r.path for r in emulator.state.requests])
    # Besides: one list of every subaccount for the whole pass (the regulations, read by the
    # first pass, are not read again within the hour).
    others = [r.path for r in emulator.state.requests if r.account_sid not in accounts.values()]
    assert others == ["/2010-04-01/Accounts.json"]


def test_a_change_in_twilio_is_picked_up_by_the_next_pass(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _enable_settled(api, emulator)
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    sync_all(service.runtime)
    assert _bundle_status(api, "NL")["status"] == "twilio-approved"

    emulator.state.advance_clock(60)  # the review's evaluation comes after the approval's
    emulator.state.set_bundle_status(account, nl.sid, "twilio-rejected", REASON)
    assert sync_all(service.runtime).done == ["acme"]
    rejected = _bundle_status(api, "NL")
    assert rejected["status"] == "twilio-rejected"
    assert rejected["failure_reason"] == REASON

    emulator.state.advance_clock(60)
    emulator.state.set_bundle_status(account, nl.sid, "twilio-approved")
    assert sync_all(service.runtime).done == ["acme"]
    approved = _bundle_status(api, "NL")
    assert approved["status"] == "twilio-approved"
    assert approved["uploads"] == bundle_uploads(
        emulator, nl, [("Business registration", "approved"), ("Proof of address", "approved")]
    )


def test_a_callback_about_a_final_bundle_makes_the_next_pass_read_it_again(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _enable_settled(api, emulator)
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status_callback(
        account, nl.sid, service.base_url + BUNDLE_CALLBACK_PATH
    )
    sync_all(service.runtime)
    details = f"/Bundles/{nl.sid}/ItemAssignments"

    def detail_reads() -> int:
        return sum(1 for r in emulator.state.requests if r.path.endswith(details))

    emulator.state.clear_requests()
    sync_all(service.runtime)
    assert detail_reads() == 0  # final and settled: not read

    # Twilio tells us about it again; the callback's own refresh fails.
    fault = emulator.state.add_fault(method="GET", path=details, status=500, times=None)
    sent = len(emulator.state.callbacks)
    emulator.state.set_bundle_status(account, nl.sid, "twilio-approved")
    assert [c.status_code for c in emulator.state.callbacks[sent:]] == [204]
    fault.cancel()

    emulator.state.clear_requests()
    assert sync_all(service.runtime).done == ["acme"]
    assert detail_reads() >= 1  # read in full again
    emulator.state.clear_requests()
    sync_all(service.runtime)
    assert detail_reads() == 0  # and settled once more


def test_two_runners_share_the_tenants_and_synchronise_each_once(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    accounts = _tenants(api, service, emulator)
    sync_all(service.runtime)
    # An hour on: the regulations are due again, for one of the two runners.
    with transaction(service.runtime.sessions) as session:
        refreshed = session.get(RegulationsRefresh, "twilio")
        assert refreshed is not None
        refreshed.refreshed_at -= timedelta(hours=1)
    emulator.state.clear_requests()
    emulator.state.latency = 0.05
    reports = [SyncReport(), SyncReport()]
    start = threading.Barrier(2)

    def runner(index: int) -> None:
        start.wait()
        reports[index] = sync_all(service.runtime)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    for report in reports:
        assert report.failed == {}
        # Each runner either worked on a tenant or skipped it: the other held it, or had
        # already synchronised it during this pass.
        assert sorted(report.done + report.skipped + report.current) == sorted(TENANTS)
    done = Counter(t for report in reports for t in report.done)
    # Every tenant synchronised once in all: not once per runner.
    assert done == Counter(TENANTS)
    # And the Twilio-wide regulations refreshed once, by one of them: the other found them
    # being refreshed, or (had it come after) current.
    lines = sorted(str(report.regulations) for report in reports)
    assert lines[0].startswith(
        ("regulations: being refreshed by another runner", "regulations: current")
    )
    assert lines[1].startswith("regulations: refreshed")
    supported = sum(1 for rule in load_rules().values() if rule.sms_supported)
    lists = sum(
        1
        for r in emulator.state.requests
        if r.path.endswith("/Regulations") and "IsoCountry" in r.params
    )
    assert lists == supported
    bundle_lists = Counter(
        r.account_sid for r in emulator.state.requests if r.path.endswith("/Bundles")
    )
    for tenant, account in accounts.items():
        # A runner that skipped a tenant made no call for it.
        assert bundle_lists[account] == done[tenant]
