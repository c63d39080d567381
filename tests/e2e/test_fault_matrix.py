"""The fault matrix: every write operation × every Twilio call it makes × every fault kind.

Each cell injects one fault into the emulator for one Twilio call, sends the request, then
repeats the same request without the fault and runs one reconciliation pass
(`sync_all`). A cell passes when

* the first answer is clear: a success, or a 4xx/502/503 carrying the one error body;
* the fault really fired (the emulator logged a request hit by it), so no cell passes vacuously;
* the repeated request finishes the job (the spec: no request leaves a half-done state that a
  retry of the same request cannot finish);
* the emulator holds exactly what the service recorded: one subaccount, Messaging Service and
  call-forwarding application (the recorded ones), the recorded numbers and no other, each in
  the recorded Messaging Service and forwarding calls, and the recorded WhatsApp senders only;
  the numbers it owns are exactly those the registry says stores claim, and no store records
  a number that was released (offboarding rows).

Every cell records its outcome as junit properties (`first`, `retry`, `twilio_attempts`), which
`bench/reliability_report.py` turns into the table of docs/reliability.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED, LedgerEntry
from clienteling_setup.numbers.models import NumberClaim
from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding
from clienteling_setup.sync import sync_all
from clienteling_setup.tenants.models import Tenant
from clienteling_setup.tenants.provisioning import subaccount_name
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, assert_error
from twilio_emulator import EmulatorServer

#: The fixture's gateway timeout is 3 s: a timeout fault holds the answer a little longer.
TIMEOUT_HOLD = 3.5


@dataclass(frozen=True)
class FaultKind:
    name: str
    kind: str
    status: int | None = None
    retry_after: float | None = None
    delay: float | None = None


FAULTS = [
    FaultKind("429 Retry-After", "error", status=429, retry_after=1),
    FaultKind("500", "error", status=500),
    FaultKind("503", "error", status=503),
    FaultKind("timeout", "timeout", delay=TIMEOUT_HOLD),
    FaultKind("dropped connection", "drop"),
    FaultKind("failed after applying", "after_apply", status=500),
]


@dataclass(frozen=True)
class TwilioCall:
    operation: str
    name: str
    method: str
    path: str  # a regular expression searched in the emulator path


CALLS = [
    TwilioCall("enable", "find subaccount", "GET", r"/2010-04-01/Accounts\.json"),
    TwilioCall("enable", "create subaccount", "POST", r"/2010-04-01/Accounts\.json"),
    TwilioCall("enable", "find messaging service", "GET", r"/v1/Services$"),
    TwilioCall("enable", "create messaging service", "POST", r"/v1/Services$"),
    TwilioCall("enable", "find voice application", "GET", r"/Applications\.json"),
    TwilioCall("enable", "create voice application", "POST", r"/Applications\.json"),
    # A first attempt buys without looking the number up and adds it to the service without
    # listing the service (issue #16); the look-up runs on retries and for owned numbers.
    TwilioCall("onboard store", "buy number", "POST", r"/IncomingPhoneNumbers\.json"),
    TwilioCall(
        "onboard store", "add to service", "POST", r"/v1/Services/MG[0-9a-f]+/PhoneNumbers$"
    ),
    TwilioCall("onboard owned number", "find number", "GET", r"/IncomingPhoneNumbers\.json"),
    # Reached when the number is already owned without call forwarding (purchased elsewhere).
    TwilioCall(
        "onboard owned number",
        "point voice at forwarding",
        "POST",
        r"/IncomingPhoneNumbers/PN[0-9a-f]+\.json",
    ),
    TwilioCall("onboard WhatsApp", "create sender", "POST", r"/v2/Channels/Senders$"),
    TwilioCall("WhatsApp dedicated number", "buy number", "POST", r"/IncomingPhoneNumbers\.json"),
    TwilioCall("WhatsApp dedicated number", "create sender", "POST", r"/v2/Channels/Senders$"),
    TwilioCall("sender group", "find messaging service", "GET", r"/v1/Services$"),
    TwilioCall("sender group", "create messaging service", "POST", r"/v1/Services$"),
    TwilioCall(
        "offboard store", "remove from service", "DELETE", r"/v1/Services/MG[0-9a-f]+/PhoneNumbers/"
    ),
    TwilioCall("offboard store", "release number", "DELETE", r"/IncomingPhoneNumbers/PN"),
    TwilioCall("offboard WhatsApp store", "delete sender", "DELETE", r"/v2/Channels/Senders/XE"),
    # The dedicated WhatsApp number is released first: the fault hits its release.
    TwilioCall("offboard WhatsApp store", "release number", "DELETE", r"/IncomingPhoneNumbers/PN"),
    TwilioCall("release kept number", "find number", "GET", r"/IncomingPhoneNumbers\.json"),
    TwilioCall("release kept number", "release number", "DELETE", r"/IncomingPhoneNumbers/PN"),
]

STORE = "us-nyc"


def _enable_request(api: Api) -> httpx.Response:
    return api.post("/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"})


def _prepare_store(api: Api) -> dict[str, Any]:
    enable(api)
    put_store(api, STORE)
    return {"phone_number": available_number(api, STORE)}


def _prepare_owned_number(api: Api, service: Service) -> dict[str, Any]:
    """A number the tenant bought outside the service: no call forwarding yet."""
    body = _prepare_store(api)
    with service.runtime.uows.of(api.tenant) as uow:
        account = uow.tenants.account(uow.tenants.require())
    service.runtime.gateway.buy_number(
        account, body["phone_number"], friendly_name="bought by hand"
    )
    return {**body, "phone_number_already_purchased": True}


def _prepare_whatsapp(api: Api) -> dict[str, Any]:
    """A store onboarded for SMS, to be registered with WhatsApp on that number."""
    body = _prepare_store(api)
    response = api.post(f"/clienteling/stores/{STORE}/onboard", json=body)
    assert response.status_code == 201, response.text
    return {"waba_id": "1234567890", "profile_name": "Dodici Fifth Avenue"}


def _prepare_whatsapp_dedicated(api: Api) -> dict[str, Any]:
    """A store onboarded for SMS, to be registered with WhatsApp on a number of its own."""
    sms = _prepare_store(api)
    response = api.post(f"/clienteling/stores/{STORE}/onboard", json=sms)
    assert response.status_code == 201, response.text
    offered = api.get(f"/clienteling/stores/{STORE}/available-phone-numbers").json()
    dedicated = next(n["phone_number"] for n in offered if n["phone_number"] != sms["phone_number"])
    return {
        "waba_id": "1234567890",
        "profile_name": "Dodici Fifth Avenue",
        "whatsapp_phone_number": dedicated,
    }


def _prepare_onboarded(api: Api) -> dict[str, Any]:
    sms = _prepare_store(api)
    response = api.post(f"/clienteling/stores/{STORE}/onboard", json=sms)
    assert response.status_code == 201, response.text
    return {}


def _prepare_whatsapp_offboarding(api: Api) -> dict[str, Any]:
    """A store on SMS and on WhatsApp with a number of its own: offboarding takes down both."""
    body = _prepare_whatsapp_dedicated(api)
    response = api.post(f"/clienteling/stores/{STORE}/whatsapp/onboard", json=body)
    assert response.status_code == 202, response.text
    return {}


def _prepare_kept_number(api: Api) -> dict[str, Any]:
    """A store offboarded keeping its number, which the next offboarding releases."""
    _prepare_onboarded(api)
    response = api.post(f"/clienteling/stores/{STORE}/offboard", json={"release_number": False})
    assert response.status_code == 200, response.text
    return {}


def _offboard_request(api: Api, body: dict[str, Any]) -> httpx.Response:
    return api.post(f"/clienteling/stores/{STORE}/offboard", json=body)


@dataclass(frozen=True)
class Operation:
    prepare: Callable[[Api, Service], dict[str, Any]]
    send: Callable[[Api, dict[str, Any]], httpx.Response]
    done: Callable[[httpx.Response], bool]


OPERATIONS = {
    "enable": Operation(
        prepare=lambda api, service: {},
        send=lambda api, body: _enable_request(api),
        # A repeated enable after a success is 409 "already configured": the job is done.
        done=lambda r: r.status_code in (201, 409),
    ),
    "onboard store": Operation(
        prepare=lambda api, service: _prepare_store(api),
        send=lambda api, body: api.post(f"/clienteling/stores/{STORE}/onboard", json=body),
        done=lambda r: r.status_code in (200, 201),
    ),
    "onboard owned number": Operation(
        prepare=_prepare_owned_number,
        send=lambda api, body: api.post(f"/clienteling/stores/{STORE}/onboard", json=body),
        done=lambda r: r.status_code in (200, 201),
    ),
    "onboard WhatsApp": Operation(
        prepare=lambda api, service: _prepare_whatsapp(api),
        send=lambda api, body: api.post(f"/clienteling/stores/{STORE}/whatsapp/onboard", json=body),
        done=lambda r: r.status_code in (200, 202),
    ),
    "WhatsApp dedicated number": Operation(
        prepare=lambda api, service: _prepare_whatsapp_dedicated(api),
        send=lambda api, body: api.post(f"/clienteling/stores/{STORE}/whatsapp/onboard", json=body),
        done=lambda r: r.status_code in (200, 202),
    ),
    "sender group": Operation(
        prepare=lambda api, service: enable(api),
        send=lambda api, body: api.put(
            "/clienteling/sender-groups/east", json={"name": "East", "waba_id": "1234567890"}
        ),
        done=lambda r: r.status_code in (200, 201),
    ),
    "offboard store": Operation(
        prepare=lambda api, service: _prepare_onboarded(api),
        send=_offboard_request,
        done=lambda r: r.status_code == 200 and r.json()["status"] == "offboarded",
    ),
    "offboard WhatsApp store": Operation(
        prepare=lambda api, service: _prepare_whatsapp_offboarding(api),
        send=_offboard_request,
        done=lambda r: r.status_code == 200 and len(r.json()["released_numbers"]) == 2,
    ),
    "release kept number": Operation(
        prepare=lambda api, service: _prepare_kept_number(api),
        send=_offboard_request,
        done=lambda r: r.status_code == 200 and r.json()["released_numbers"] != [],
    ),
}


def _clear_answer(response: httpx.Response) -> str:
    """'201', or '503: <message>': fails the cell unless the answer is one a caller can act on."""
    if response.status_code in (200, 201, 202):
        return str(response.status_code)
    assert response.status_code in (400, 404, 409, 502, 503), response.text
    body = assert_error(response, response.status_code)
    if response.status_code == 503:
        assert int(response.headers["Retry-After"]) >= 1
    return f"{response.status_code}: {body['message']}"


def assert_emulator_matches_records(api: Api, service: Service, emulator: EmulatorServer) -> None:
    state = emulator.state
    with service.runtime.sessions() as session:
        tenant = session.get(Tenant, api.tenant)
        onboardings = list(
            session.scalars(select(StoreOnboarding).where(StoreOnboarding.tenant_id == api.tenant))
        )
        whatsapp = list(
            session.scalars(
                select(WhatsAppSenderRecord).where(WhatsAppSenderRecord.tenant_id == api.tenant)
            )
        )
        groups = list(
            session.scalars(select(SenderGroup).where(SenderGroup.tenant_id == api.tenant))
        )
        claims = list(
            session.scalars(select(NumberClaim).where(NumberClaim.tenant_id == api.tenant))
        )
        ledger = list(
            session.scalars(select(LedgerEntry).where(LedgerEntry.tenant_id == api.tenant))
        )
    subaccounts = [
        a
        for a in state.subaccounts()
        if a.friendly_name == subaccount_name(api.tenant) and a.status != "closed"
    ]
    if tenant is None:
        assert subaccounts == [], "a subaccount exists that the service never recorded"
        return
    assert [a.sid for a in subaccounts] == [tenant.subaccount_sid]
    sub = tenant.subaccount_sid
    services = sorted(s.sid for s in state.messaging_services(sub))
    recorded_services = [tenant.messaging_service_sid] + [
        g.messaging_service_sid for g in groups if g.messaging_service_sid is not None
    ]
    assert services == sorted(recorded_services), "a Messaging Service the service never recorded"
    assert all(g.messaging_service_sid is not None for g in groups), "a group left half-created"
    assert [a.sid for a in state.applications(sub)] == [tenant.voice_app_sid]
    owned = {n.phone_number: n for n in state.owned_numbers(sub)}
    recorded = {o.phone_number: o for o in onboardings if o.status == "onboarded"}
    dedicated = {w.phone_number: w for w in whatsapp if w.phone_number not in recorded}
    assert sorted(owned) == sorted([*recorded, *dedicated]), "owned numbers differ from records"
    members = {m.sid for m in state.messaging_service_numbers(tenant.messaging_service_sid)}
    assert members == {owned[number].sid for number in recorded}
    for number, row in [*recorded.items(), *dedicated.items()]:
        assert row.number_sid == owned[number].sid
        assert owned[number].voice_application_sid == tenant.voice_app_sid
    senders = {w.sender_sid for w in whatsapp}
    assert {s.sid for s in state.senders(sub)} == senders - {None}
    # The registry: the emulator holds exactly the numbers stores claim (a kept number
    # included), and no store records a number that was released.
    assert sorted(owned) == sorted(c.phone_number for c in claims), "owned differ from claims"
    assert {o.phone_number for o in onboardings} <= set(owned), "a released number is recorded"
    assert {w.phone_number for w in whatsapp} <= set(owned), "a released number is recorded"
    # The ledger: what the service bought and did not release is exactly what Twilio bills
    # for it (the numbers named for a store); each purchase priced, each release of a number
    # no longer owned.
    bought = {e.sid: e for e in ledger if e.action == NUMBER_BOUGHT}
    released = {e.sid for e in ledger if e.action == NUMBER_RELEASED}
    ours = {
        n.sid for n in owned.values() if n.friendly_name.startswith(f"clienteling:{api.tenant}:")
    }
    assert set(bought) - released == ours, "the ledger's open purchases differ from the numbers"
    assert not released & {n.sid for n in owned.values()}, (
        "a number released in the ledger is owned"
    )
    assert all((e.monthly_price, e.price_unit) == ("1.15", "USD") for e in bought.values())


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
@pytest.mark.parametrize("call", CALLS, ids=[f"{c.operation}: {c.name}" for c in CALLS])
def test_fault_cell(
    api: Api,
    service: Service,
    emulator: EmulatorServer,
    call: TwilioCall,
    fault: FaultKind,
    record_property: Callable[[str, object], None],
) -> None:
    operation = OPERATIONS[call.operation]
    body = operation.prepare(api, service)
    state = emulator.state
    state.clear_requests()
    rule = state.add_fault(
        method=call.method,
        path=call.path,
        kind=fault.kind,  # type: ignore[arg-type]
        status=fault.status,
        retry_after=fault.retry_after,
        delay=fault.delay,
        times=1,
    )

    first = operation.send(api, body)
    first_answer = _clear_answer(first)
    hit = [r for r in state.requests if r.fault == fault.kind]
    assert rule.hits == 1, f"the fault never fired on {call.method} {call.path}"
    assert len(hit) == 1
    attempts = [r for r in state.requests if r.method == call.method and _matches(call, r.path)]
    state.clear_faults()

    retry = operation.send(api, body)
    retry_answer = _clear_answer(retry)
    report = sync_all(service.runtime)
    record_property("operation", call.operation)
    record_property("twilio_call", f"{call.name} ({call.method})")
    record_property("fault", fault.name)
    record_property("first", first_answer.split(":")[0])
    record_property("retry", retry_answer.split(":")[0])
    record_property("twilio_attempts", len(attempts))
    assert report.failed == {}, report.failed
    assert operation.done(retry), retry.text
    assert_emulator_matches_records(api, service, emulator)


def _matches(call: TwilioCall, path: str) -> bool:
    return re.search(call.path.removesuffix("$"), path) is not None
