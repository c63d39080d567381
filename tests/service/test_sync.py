"""Reconciliation and Twilio's bundle status callbacks keep the status current: approvals and
rejections show up, documents show as uploads, one failing tenant does not stop the others,
two runners never work on one tenant, a callback is never overwritten by an older read, and
the Regulations API refreshes what each country requires."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import httpx

from clienteling_setup.compliance import records
from clienteling_setup.compliance.models import BundleRecord, RegulationsRefresh
from clienteling_setup.compliance.rules import load_rules
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.sync import SyncReport, sync_all, sync_tenant
from tests.conftest import Service
from tests.service.compliance_helpers import BUNDLE_CALLBACK_PATH, bundle_uploads, emulator_bundle
from tests.service.helpers import available_number, enable, wait_for_first_read
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer
from twilio_emulator.models import Regulation
from twilio_emulator.regulations import regulation_sid

NL_STORE = {"name": "Dodici Kalverstraat", "country_code": "NL", "locality": "Amsterdam"}
ES_STORE = {"name": "Dodici Preciados", "country_code": "ES", "locality": "Madrid"}
US_STORE = {"name": "Dodici Fifth Avenue", "country_code": "US", "region": "NY"}
REASON = "The business name on the registration does not match the end user."


def _setup(api: Api, stores: dict[str, dict[str, Any]], *, wait_for_read: bool = True) -> str:
    """Stores, clienteling enabled and the opt-in template in place; returns the subaccount."""
    for store_id, body in stores.items():
        assert api.put(f"/clienteling/stores/{store_id}", json=body).status_code == 201
    account = str(enable(api, wait_for_read=wait_for_read)["twilio"]["sid"])
    assert api.put("/clienteling/opt-in-template", json={"body": "Reply YES"}).status_code == 201
    return account


def _country(api: Api, code: str) -> dict[str, Any]:
    doc = api.get("/clienteling/onboarding-status").json()
    return next(c for c in doc["countries"] if c["country_code"] == code)  # type: ignore[no-any-return]


def _bundle_status(
    emulator: EmulatorServer, bundle: Any, status: str, uploads: list[tuple[str, str]]
) -> dict[str, Any]:
    return {
        "required": True,
        "status": status,
        "bundle_id": bundle.sid,
        "failure_reason": None,
        "uploads": bundle_uploads(emulator, bundle, uploads),
    }


def test_enabling_answers_before_its_compliance_read_which_follows_in_the_background(
    api: Api, emulator: EmulatorServer
) -> None:
    """Issue 16: enabling makes only the calls that create the tenant's resources before it
    answers; the bundles and trust products are read afterwards, without a sync pass."""
    assert api.put("/clienteling/stores/nl-ams", json=NL_STORE).status_code == 201
    # Twilio slow to list the bundles: enabling must not wait for it.
    emulator.state.add_fault(
        method="GET", path=r"/RegulatoryCompliance/Bundles$", kind="latency", delay=2.0
    )
    emulator.state.clear_requests()
    account = str(enable(api, wait_for_read=False)["twilio"]["sid"])
    before_answer = [f"{r.method} {r.path}" for r in emulator.state.requests]
    assert len(before_answer) <= 6, before_answer  # subaccount, Messaging Service, voice app
    assert not [c for c in before_answer if "Compliance" in c or "TrustProducts" in c]
    country = _country(api, "NL")
    assert country["regulatory_bundle"]["status"] == "missing"
    assert api.get("/clienteling/onboarding-status").json()["reconciliation"] == {
        "last_succeeded_at": None,
        "lag_seconds": None,
    }

    wait_for_first_read(api)
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    assert _country(api, "NL")["regulatory_bundle"]["bundle_id"] == nl.sid


def test_enabling_synchronises_bundles_without_a_sync_pass(
    api: Api, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    country = _country(api, "NL")
    assert country["regulatory_bundle"] == _bundle_status(
        emulator,
        nl,
        "twilio-approved",
        [("Business registration", "approved"), ("Proof of address", "approved")],
    )
    assert country["actions"] == ["onboard_stores"]


def test_enabling_succeeds_when_the_compliance_sync_fails(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    emulator.state.add_fault(
        method="GET", path=r"/RegulatoryCompliance/Bundles$", status=500, times=None
    )
    account = _setup(api, {"nl-ams": NL_STORE}, wait_for_read=False)
    country = _country(api, "NL")
    assert country["regulatory_bundle"]["status"] == "missing"
    assert country["actions"] == ["create_regulatory_bundle"]
    # The status does not claim to be current: Twilio's state was never read.
    assert api.get("/clienteling/onboarding-status").json()["reconciliation"] == {
        "last_succeeded_at": None,
        "lag_seconds": None,
    }

    emulator.state.clear_faults()
    # The failed first read may still hold the tenant (it retries): a runner skips it then.
    deadline = time.monotonic() + 30
    while True:
        report = SyncReport()
        sync_tenant(service.runtime, "acme", report)
        assert report.failed == {}
        if report.done == ["acme"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert wait_for_first_read(api)["reconciliation"]["lag_seconds"] >= 0
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    assert _country(api, "NL")["regulatory_bundle"]["bundle_id"] == nl.sid


def test_bundle_approved_in_twilio_shows_approved_after_sync(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status(account, nl.sid, "in-review")
    report = sync_all(service.runtime)
    assert report.done == ["acme"]
    country = _country(api, "NL")
    assert country["regulatory_bundle"] == _bundle_status(
        emulator,
        nl,
        "in-review",
        [("Business registration", "pending-review"), ("Proof of address", "approved")],
    )
    assert country["actions"] == ["await_bundle_review"]

    emulator.state.set_bundle_status(account, nl.sid, "twilio-approved")
    assert sync_all(service.runtime).done == ["acme"]
    country = _country(api, "NL")
    assert country["regulatory_bundle"] == _bundle_status(
        emulator,
        nl,
        "twilio-approved",
        [("Business registration", "approved"), ("Proof of address", "approved")],
    )
    assert country["actions"] == ["onboard_stores"]


def test_rejected_bundle_shows_fix_rejected_bundle_with_the_reason(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"es-mad": ES_STORE})
    es = emulator_bundle(emulator, account, "ES", "mobile", "twilio-approved")
    emulator.state.advance_clock(60)  # Twilio's review comes later than the approval
    emulator.state.set_bundle_status(account, es.sid, "twilio-rejected", failure_reason=REASON)
    assert sync_all(service.runtime).done == ["acme"]
    country = _country(api, "ES")
    assert country["regulatory_bundle"] == {
        **_bundle_status(
            emulator,
            es,
            "twilio-rejected",
            [("Business registration", "rejected"), ("Proof of address", "approved")],
        ),
        "failure_reason": REASON,
    }
    assert country["actions"] == ["fix_rejected_bundle"]


def test_signed_bundle_callbacks_update_the_status_without_sync(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE, "es-mad": ES_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    es = emulator_bundle(emulator, account, "ES", "mobile", "twilio-approved")
    for bundle in (nl, es):
        emulator.state.set_bundle_status_callback(
            account, bundle.sid, service.base_url + BUNDLE_CALLBACK_PATH
        )

    emulator.state.set_bundle_status(account, nl.sid, "pending-review")
    emulator.state.set_bundle_status(account, es.sid, "twilio-rejected", failure_reason=REASON)
    assert [c.status_code for c in emulator.state.callbacks[-2:]] == [204, 204]
    nl_country, es_country = _country(api, "NL"), _country(api, "ES")
    assert nl_country["regulatory_bundle"] == _bundle_status(
        emulator,
        nl,
        "pending-review",
        [("Business registration", "pending-review"), ("Proof of address", "approved")],
    )
    assert nl_country["actions"] == ["await_bundle_review"]
    assert es_country["regulatory_bundle"]["status"] == "twilio-rejected"
    assert es_country["regulatory_bundle"]["failure_reason"] == REASON
    assert es_country["actions"] == ["fix_rejected_bundle"]

    emulator.state.set_bundle_status(account, nl.sid, "twilio-approved")
    assert emulator.state.callbacks[-1].status_code == 204
    nl_country = _country(api, "NL")
    assert nl_country["regulatory_bundle"] == _bundle_status(
        emulator,
        nl,
        "twilio-approved",
        [("Business registration", "approved"), ("Proof of address", "approved")],
    )
    assert nl_country["actions"] == ["onboard_stores"]


def test_bundle_callback_without_a_valid_signature_is_403_and_changes_nothing(
    api: Api, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    before = _country(api, "NL")
    form = {"AccountSid": account, "BundleSid": nl.sid, "Status": "twilio-rejected"}
    for headers in ({}, {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}):
        response = httpx.post(api.base_url + BUNDLE_CALLBACK_PATH, data=form, headers=headers)
        assert_error(response, 403, "X-Twilio-Signature")
    assert _country(api, "NL") == before


def test_a_failing_tenant_does_not_stop_the_others(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    failing = _setup(api, {"nl-ams": NL_STORE})
    globex = Api(api.base_url, service.token("globex"), "globex", api.client)
    healthy = _setup(globex, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, healthy, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status(healthy, nl.sid, "in-review")
    # Closed in Twilio: its credentials stop working, so every call of its pass fails.
    emulator.state.set_account_status(failing, "closed")

    report = sync_all(service.runtime)

    assert report.done == ["globex"]
    assert list(report.failed) == ["acme"]
    assert _country(globex, "NL")["regulatory_bundle"]["status"] == "in-review"
    assert _country(api, "NL")["regulatory_bundle"]["status"] == "twilio-approved"


def test_two_concurrent_runners_never_work_on_one_tenant(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    emulator.state.clear_requests()
    emulator.state.latency = 0.1
    report = SyncReport()
    start = threading.Barrier(2)

    def runner() -> None:
        start.wait()
        sync_tenant(service.runtime, "acme", report)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert report.done == ["acme"]
    assert report.skipped == ["acme"]
    requests = emulator.state.requests
    subaccount_fetches = [r for r in requests if r.path.endswith(f"/Accounts/{account}.json")]
    bundle_lists = [r for r in requests if r.path.endswith("/RegulatoryCompliance/Bundles")]
    assert len(subaccount_fetches) == 1
    assert len(bundle_lists) == 1


def test_a_callback_during_a_sync_is_not_overwritten(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """A sync pass that read Twilio before a callback landed must not write its older answer
    over the callback's; and it deletes only bundles Twilio no longer lists."""
    account_sid = _setup(api, {"nl-ams": NL_STORE})
    runtime = service.runtime
    nl = emulator_bundle(emulator, account_sid, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status_callback(
        account_sid, nl.sid, service.base_url + BUNDLE_CALLBACK_PATH
    )
    with transaction(runtime.sessions) as session:
        gone = BundleRecord(tenant_id="acme", sid="BU" + "0" * 32, iso_country="NL", status="draft")
        session.add(gone)
    with runtime.uows.of("acme") as uow:
        account = uow.tenants.account(uow.tenants.require())

    read_since = utcnow()
    bundles, products = records.fetch_all(runtime.gateway, account)  # NL still approved here
    emulator.state.set_bundle_status(account_sid, nl.sid, "twilio-rejected", REASON)
    assert emulator.state.callbacks[-1].status_code == 204
    with runtime.uows.of("acme") as uow:
        records.store_bundles(uow.compliance, bundles, read_since=read_since, complete=True)
        records.store_trust_products(uow.compliance, products, read_since=read_since)

    country = _country(api, "NL")
    assert country["regulatory_bundle"]["status"] == "twilio-rejected"
    assert country["regulatory_bundle"]["failure_reason"] == REASON
    with transaction(runtime.sessions) as session:
        assert session.get(BundleRecord, ("acme", "BU" + "0" * 32)) is None
        assert session.get(BundleRecord, ("acme", nl.sid)) is not None


def test_regulations_refresh_what_a_country_requires(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    _setup(api, {"us-nyc": US_STORE})
    assert _country(api, "US")["regulatory_bundle"]["required"] is False
    # Twilio starts requiring a bundle for US local numbers of businesses.
    sid = regulation_sid("US", "local", "business")
    with emulator.state.lock:
        emulator.state.regulations[sid] = Regulation(
            sid, "US", "local", "business", "United States: Local - Business"
        )

    report = sync_all(service.runtime)

    supported = sum(1 for rule in load_rules().values() if rule.sms_supported)
    assert report.regulations == f"regulations: refreshed {supported} countries"
    country = _country(api, "US")
    assert country["regulatory_bundle"] == {
        "required": True,
        "status": "missing",
        "bundle_id": None,
        "failure_reason": None,
        "uploads": [],
    }
    assert "create_regulatory_bundle" in country["actions"]
    assert "onboard_stores" not in country["actions"]
    response = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": "+12125550199"})
    assert_error(response, 400, "regulatory bundle", "regulatory-bundles")

    with emulator.state.lock:
        del emulator.state.regulations[sid]
    # Within the hour a pass does not read them again: the answer stands.
    assert str(sync_all(service.runtime).regulations).startswith("regulations: current")
    assert _country(api, "US")["regulatory_bundle"]["required"] is True
    _regulations_read_ago(service, hours=2)
    sync_all(service.runtime)
    assert _country(api, "US")["regulatory_bundle"]["required"] is False


def _regulations_read_ago(service: Service, *, hours: float) -> None:
    """Let time pass since the regulations were last read (as a later pass would find)."""
    with transaction(service.runtime.sessions) as session:
        row = session.get(RegulationsRefresh, "twilio")
        assert row is not None
        row.refreshed_at = utcnow() - timedelta(hours=hours)


def _regulation_reads(emulator: EmulatorServer) -> int:
    """Lists of a country's regulations: the refresh (not the one list of all of them a new
    process makes to learn the country of the bundles it reads)."""
    return sum(
        1
        for r in emulator.state.requests
        if r.path.endswith("/Regulations") and "IsoCountry" in r.params
    )


def test_regulations_are_read_at_most_hourly(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """Twilio's regulations are Twilio-wide and change rarely: a pass reads them (a call per
    country) only when the last read is an hour old, whichever process made it."""
    _setup(api, {"nl-ams": NL_STORE})
    supported = sum(1 for rule in load_rules().values() if rule.sms_supported)
    emulator.state.clear_requests()
    assert sync_all(service.runtime).regulations == f"regulations: refreshed {supported} countries"
    assert _regulation_reads(emulator) == supported

    emulator.state.clear_requests()
    report = sync_all(service.runtime)
    assert report.done == ["acme"]
    assert str(report.regulations).startswith("regulations: current (last read ")
    assert _regulation_reads(emulator) == 0

    _regulations_read_ago(service, hours=0.5)
    assert str(sync_all(service.runtime).regulations).startswith("regulations: current")
    assert _regulation_reads(emulator) == 0

    _regulations_read_ago(service, hours=1)
    assert sync_all(service.runtime).regulations == f"regulations: refreshed {supported} countries"
    assert _regulation_reads(emulator) == supported


def test_regulations_read_while_twilio_is_away_are_read_again_by_the_next_pass(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    _setup(api, {"nl-ams": NL_STORE})
    supported = sum(1 for rule in load_rules().values() if rule.sms_supported)
    fault = emulator.state.add_fault(
        method="GET", path=r"/Regulations", kind="error", status=503, times=None
    )
    report = sync_all(service.runtime)
    fault.cancel()
    assert "not refreshed (table or previous answer kept)" in str(report.regulations)

    emulator.state.clear_requests()
    assert sync_all(service.runtime).regulations == f"regulations: refreshed {supported} countries"
    assert _regulation_reads(emulator) == supported


def test_sync_command_line_run(api: Api, service: Service, emulator: EmulatorServer) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status(account, nl.sid, "in-review")
    settings = service.runtime.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIENTELING_")}
    env.update(
        {
            "CLIENTELING_DATA_DIR": str(settings.data_dir),
            "CLIENTELING_DATABASE_URL": settings.resolved_database_url(),
            "CLIENTELING_TWILIO__MODE": "emulator",
            "CLIENTELING_TWILIO__API_BASE_URL": emulator.base_url,
            "CLIENTELING_TWILIO__ACCOUNT_SID": emulator.state.master_account_sid,
            "CLIENTELING_TWILIO__AUTH_TOKEN": emulator.state.master_auth_token,
        }
    )

    def sync_command() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "clienteling_setup.cli", "sync", "--tenant", "acme"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    run = sync_command()
    assert run.returncode == 0, run.stderr
    supported = sum(1 for rule in load_rules().values() if rule.sms_supported)
    assert run.stdout.splitlines() == [
        f"regulations: refreshed {supported} countries",
        "synchronised: acme",
    ]
    assert "Synchronising tenants" in run.stderr
    assert _country(api, "NL")["regulatory_bundle"]["status"] == "in-review"

    # Another process, within the hour: the regulations read by the first one stand.
    emulator.state.clear_requests()
    again = sync_command()
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert lines[0].startswith("regulations: current (last read ")
    assert lines[1:] == ["synchronised: acme"]
    assert _regulation_reads(emulator) == 0


def test_an_empty_regulations_answer_does_not_lift_a_known_requirement(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """Twilio answers nothing for countries it does not sell in (IE in the emulator): the
    packaged table's requirement stands, and onboarding still asks for a bundle."""
    _setup(api, {"nl-ams": NL_STORE})
    api.put("/clienteling/stores/ie-dub", json={"name": "Grafton St", "country_code": "IE"})
    with emulator.state.lock:
        assert not [r for r in emulator.state.regulations.values() if r.iso_country == "IE"]
    sync_all(service.runtime)
    assert _country(api, "IE")["regulatory_bundle"]["required"] is True
    response = api.post(
        "/clienteling/stores/ie-dub/onboard", json={"phone_number": "+353851234567"}
    )
    assert_error(response, 400, "regulatory bundle")


def _fingerprint(service: Service) -> tuple[Any, ...]:
    with service.runtime.uows.of("acme") as uow:
        return StatusRepository(uow.session, "acme").fingerprint()


def test_a_pass_that_changes_nothing_keeps_the_status_fingerprint(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    """Reconciliation over a tenant Twilio has nothing new about writes nothing: the status
    fingerprint, and the cached document keyed by it, stay. A real change still moves it."""
    account = _setup(api, {"nl-ams": NL_STORE, "us-nyc": US_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    number = available_number(api, "us-nyc")
    onboard = api.post("/clienteling/stores/us-nyc/onboard", json={"phone_number": number})
    assert onboard.status_code == 201, onboard.text
    # A sender still in review: every pass fetches it from Twilio.
    whatsapp = api.post(
        "/clienteling/stores/us-nyc/whatsapp/onboard",
        json={"waba_id": "1234567890", "profile_name": "Dodici"},
    )
    assert whatsapp.status_code == 202, whatsapp.text
    assert sync_all(service.runtime).done == ["acme"]
    before = _fingerprint(service)
    document = api.get("/clienteling/onboarding-status").json()
    last = document.pop("reconciliation")["last_succeeded_at"]

    for _ in range(2):
        report = sync_all(service.runtime)
        assert report.done == ["acme"]
        assert str(report.regulations).startswith("regulations: current")  # read by the first
        assert _fingerprint(service) == before
    after = api.get("/clienteling/onboarding-status").json()
    # Only the reconciliation's own time moved (read past the cached document).
    assert after.pop("reconciliation")["last_succeeded_at"] > last
    assert after == document
    us_nyc = next(s for s in document["stores"] if s["id"] == "us-nyc")
    assert us_nyc["channels"]["whatsapp"]["status"] == "creating"  # polled by every pass

    emulator.state.set_bundle_status(account, nl.sid, "in-review")
    assert sync_all(service.runtime).done == ["acme"]
    assert _fingerprint(service) != before
    assert _country(api, "NL")["regulatory_bundle"]["status"] == "in-review"


def test_a_callback_that_changes_nothing_keeps_the_status_fingerprint(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    account = _setup(api, {"nl-ams": NL_STORE})
    nl = emulator_bundle(emulator, account, "NL", "mobile", "twilio-approved")
    emulator.state.set_bundle_status_callback(
        account, nl.sid, service.base_url + BUNDLE_CALLBACK_PATH
    )
    emulator.state.set_bundle_status(account, nl.sid, "in-review")
    assert _country(api, "NL")["regulatory_bundle"]["status"] == "in-review"
    before = _fingerprint(service)
    sent = len(emulator.state.callbacks)

    emulator.state.set_bundle_status(account, nl.sid, "in-review")  # told again

    assert [c.status_code for c in emulator.state.callbacks[sent:]] == [204]
    assert _fingerprint(service) == before
    emulator.state.set_bundle_status(account, nl.sid, "twilio-approved")
    assert _fingerprint(service) != before
    assert _country(api, "NL")["regulatory_bundle"]["status"] == "twilio-approved"
