"""The built-in Twilio emulator driven by the official `twilio` SDK (and plain httpx) over HTTP.

The SDK's own HTTP client is subclassed here to rewrite ``https://{sub}.twilio.com`` to
``{base_url}/{sub}``, the routing convention the service's gateway uses.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import httpx
import phonenumbers
import pytest
import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.messaging.v2.channels_sender import ChannelsSenderList

from twilio_emulator import (
    ConnectionDropped,
    EmulatorServer,
    EmulatorState,
    create_emulator_app,
)

SenderCreate = ChannelsSenderList.MessagingV2ChannelsSenderRequestsCreate
SenderUpdate = ChannelsSenderList.MessagingV2ChannelsSenderRequestsUpdate


class EmulatorHttpClient(TwilioHttpClient):  # type: ignore[misc]
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        url = re.sub(r"^https://([a-z]+)\.twilio\.com", rf"{self.base_url}/\1", url)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    emulator = EmulatorServer(EmulatorState(seed=3)).start()
    yield emulator
    emulator.stop()


@pytest.fixture
def state(server: EmulatorServer) -> EmulatorState:
    server.state.reset()
    return server.state


ClientFactory = Callable[..., Client]


@pytest.fixture
def client(server: EmulatorServer) -> ClientFactory:
    def make(sid: str, token: str, account_sid: str | None = None, timeout: float = 5.0) -> Client:
        http = EmulatorHttpClient(server.base_url, timeout)
        return Client(sid, token, account_sid=account_sid, http_client=http)

    return make


@pytest.fixture
def master(state: EmulatorState, client: ClientFactory) -> Client:
    return client(state.master_account_sid, state.master_auth_token)


@pytest.fixture
def tenant(master: Client, client: ClientFactory) -> Client:
    account = master.api.v2010.accounts.create(friendly_name="tenant-a")
    return client(account.sid, account.auth_token)


@dataclass
class Failure:
    status: int
    code: int
    headers: dict[str, str]


def rest_error(call: Callable[[], Any]) -> Failure:
    """Twilio's error answer to `call`, whether the SDK raised it as a REST error or, for list
    pages, as `TwilioException("Unable to fetch page", response)`."""
    with pytest.raises(TwilioException) as raised:
        call()
    error = raised.value
    if isinstance(error, TwilioRestException):
        return Failure(error.status, error.code, {})
    response = error.args[1]
    headers = {k.lower(): v for k, v in response.headers.items()}
    return Failure(response.status_code, json.loads(response.text)["code"], headers)


def us_local(c: Client, **filters: Any) -> list[Any]:
    return list(c.api.v2010.account.available_phone_numbers("US").local.list(**filters))


# ------------------------------------------------------------------------------ auth
class TestAuth:
    def test_bad_credentials_are_20003(self, state: EmulatorState, client: ClientFactory) -> None:
        bad = client(state.master_account_sid, "not-the-token")
        error = rest_error(lambda: bad.api.v2010.accounts(state.master_account_sid).fetch())
        assert (error.status, error.code) == (401, 20003)

    def test_subaccount_cannot_reach_the_master_account(
        self, state: EmulatorState, tenant: Client
    ) -> None:
        error = rest_error(
            lambda: tenant.api.v2010.accounts(state.master_account_sid).applications.list()
        )
        assert (error.status, error.code) == (401, 20003)

    def test_master_acts_on_a_subaccount_on_the_2010_api_only(
        self, state: EmulatorState, tenant: Client, client: ClientFactory
    ) -> None:
        sub = tenant.username
        tenant.api.v2010.account.applications.create(friendly_name="fwd")
        as_master = client(state.master_account_sid, state.master_auth_token, account_sid=sub)
        assert [a.friendly_name for a in as_master.api.v2010.account.applications.list()] == ["fwd"]
        # numbers, messaging and trusthub act on the authenticated (master) account itself
        tenant.messaging.v1.services.create(friendly_name="tenant-svc")
        assert len(tenant.numbers.v2.regulatory_compliance.bundles.list()) > 0
        assert len(tenant.trusthub.v1.trust_products.list()) == 2
        assert as_master.numbers.v2.regulatory_compliance.bundles.list() == []
        assert as_master.trusthub.v1.trust_products.list() == []
        assert as_master.messaging.v1.services.list() == []
        bundle = tenant.numbers.v2.regulatory_compliance.bundles.list()[0].sid
        error = rest_error(
            lambda: as_master.numbers.v2.regulatory_compliance.bundles(bundle).fetch()
        )
        assert (error.status, error.code) == (404, 20404)


class TestAccounts:
    def test_create_list_fetch(self, master: Client, tenant: Client) -> None:
        created = master.api.v2010.accounts.create(friendly_name="tenant-b")
        assert re.fullmatch(r"[0-9a-f]{32}", created.auth_token)
        assert created.owner_account_sid == master.username
        assert created.status == "active"
        found = master.api.v2010.accounts.list(friendly_name="tenant-b", status="active")
        assert [a.sid for a in found] == [created.sid]
        assert master.api.v2010.accounts(created.sid).fetch().friendly_name == "tenant-b"
        assert {a.friendly_name for a in tenant.api.v2010.accounts.list()} == {"tenant-a"}
        error = rest_error(lambda: tenant.api.v2010.accounts.create(friendly_name="nested"))
        assert error.status == 403


# ------------------------------------------------------------------------------ numbers
class TestAvailableNumbers:
    def test_local_numbers_are_valid_and_near(self, tenant: Client) -> None:
        found = us_local(tenant, in_region="CA", sms_enabled=True, limit=20)
        assert found
        for number in found:
            parsed = phonenumbers.parse(number.phone_number)
            assert phonenumbers.is_valid_number(parsed)
            assert phonenumbers.region_code_for_number(parsed) == "US"
            assert number.region == "CA"
            assert number.locality
            assert number.capabilities["sms"]
        assert all(n.phone_number[2:5] == "415" for n in us_local(tenant, area_code=415))
        assert {n.locality for n in us_local(tenant, in_postal_code="10013")} == {"New York"}
        near = us_local(tenant, near_lat_long="47.6,-122.3", distance=10)
        assert {n.locality for n in near} == {"Seattle"}
        assert all("77" in n.phone_number for n in us_local(tenant, contains="77"))

    def test_types_per_country(self, tenant: Client, server: EmulatorServer) -> None:
        gb = tenant.api.v2010.account.available_phone_numbers("GB")
        assert gb.local.list(sms_enabled=True) == []  # UK geographic numbers carry no SMS
        mobiles = gb.mobile.list(sms_enabled=True, limit=5)
        assert mobiles
        assert all(
            phonenumbers.number_type(phonenumbers.parse(n.phone_number))
            == phonenumbers.PhoneNumberType.MOBILE
            for n in mobiles
        )
        failure = rest_error(
            lambda: tenant.api.v2010.account.available_phone_numbers("US").mobile.list()
        )
        assert (failure.status, failure.code) == (404, 20404)
        url = f"{server.base_url}/api/2010-04-01/Accounts/{tenant.username}/AvailablePhoneNumbers"
        answer = httpx.get(f"{url}/CA/Mobile.json", auth=(tenant.username, tenant.password))
        assert answer.status_code == 404
        assert answer.json()["code"] == 20404

    def test_the_pool_is_deterministic_per_seed(self) -> None:
        first, second = EmulatorState(seed=11), EmulatorState(seed=11)
        assert [n.phone_number for n in first.pool("DE", "mobile")] == [
            n.phone_number for n in second.pool("DE", "mobile")
        ]
        assert first.pool("DE", "mobile") != EmulatorState(seed=12).pool("DE", "mobile")


class TestPurchase:
    def test_bought_number_leaves_the_pool_and_is_21422_for_others(
        self, state: EmulatorState, master: Client, tenant: Client, client: ClientFactory
    ) -> None:
        phone = us_local(tenant, limit=1)[0].phone_number
        bought = tenant.api.v2010.account.incoming_phone_numbers.create(
            phone_number=phone, friendly_name="store-1"
        )
        assert phone not in {n.phone_number for n in us_local(tenant, limit=1000)}
        assert [n.sid for n in state.owned_numbers(tenant.username)] == [bought.sid]
        other = master.api.v2010.accounts.create(friendly_name="tenant-b")
        other_client = client(other.sid, other.auth_token)
        error = rest_error(
            lambda: other_client.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        )
        assert (error.status, error.code) == (400, 21422)
        # the owner buying again: 201 like an update (Twilio's "feature")
        again = tenant.api.v2010.account.incoming_phone_numbers.create(
            phone_number=phone, friendly_name="store-1 again"
        )
        assert again.sid == bought.sid
        assert again.friendly_name == "store-1 again"
        assert len(state.owned_numbers(tenant.username)) == 1

    def test_unknown_or_taken_numbers_are_21422(self, state: EmulatorState, tenant: Client) -> None:
        numbers = tenant.api.v2010.account.incoming_phone_numbers
        assert rest_error(lambda: numbers.create(phone_number="+15005550000")).code == 21422
        phone = us_local(tenant, limit=1)[0].phone_number
        state.make_number_unavailable(phone)
        assert rest_error(lambda: numbers.create(phone_number=phone)).code == 21422

    def test_regulated_purchase_needs_address_and_approved_bundle(
        self, state: EmulatorState, tenant: Client, master: Client
    ) -> None:
        sub = tenant.username
        numbers = tenant.api.v2010.account.incoming_phone_numbers
        phone = tenant.api.v2010.account.available_phone_numbers("GB").mobile.list(limit=1)[0]
        address = tenant.api.v2010.account.addresses.list(iso_country="GB")[0].sid
        bundles = tenant.numbers.v2.regulatory_compliance.bundles
        approved = bundles.list(iso_country="GB", number_type="mobile", status="twilio-approved")
        pending = bundles.list(iso_country="DE", status="pending-review")[0].sid
        german = bundles.list(iso_country="DE", status="twilio-approved")[0].sid

        def buy(**extra: Any) -> Failure:
            return rest_error(lambda: numbers.create(phone_number=phone.phone_number, **extra))

        assert buy().code == 21631
        assert buy(address_sid=address).code == 21649
        assert buy(address_sid=address, bundle_sid=german).code == 21649
        state.set_bundle_status(sub, pending, "twilio-approved")  # DE bundle, still wrong country
        assert buy(address_sid=address, bundle_sid=pending).code == 21649
        other = master.api.v2010.accounts.create(friendly_name="tenant-b")
        foreign_address = state.addresses(other.sid)[0].sid
        foreign_bundle = state.bundles(other.sid)[0].sid
        assert buy(address_sid=foreign_address, bundle_sid=approved[0].sid).code == 21613
        assert buy(address_sid=address, bundle_sid=foreign_bundle).code == 22205
        gb = state.add_bundle(sub, "GB", "mobile", "pending-review")
        assert buy(address_sid=address, bundle_sid=gb.sid).code == 21649
        state.set_bundle_status(sub, gb.sid, "twilio-approved")
        bought = numbers.create(
            phone_number=phone.phone_number, address_sid=address, bundle_sid=gb.sid
        )
        assert (bought.bundle_sid, bought.address_sid) == (gb.sid, address)

    def test_update_and_find_numbers(self, tenant: Client) -> None:
        account = tenant.api.v2010.account
        app = account.applications.create(friendly_name="fwd", voice_url="https://x.example/v")
        phone = us_local(tenant, limit=1)[0].phone_number
        number = account.incoming_phone_numbers.create(phone_number=phone)
        account.incoming_phone_numbers(number.sid).update(voice_application_sid=app.sid)
        assert account.incoming_phone_numbers(number.sid).fetch().voice_application_sid == app.sid
        assert [n.sid for n in account.incoming_phone_numbers.list(phone_number=phone)] == [
            number.sid
        ]
        error = rest_error(
            lambda: account.incoming_phone_numbers(number.sid).update(
                voice_application_sid="AP" + "0" * 32
            )
        )
        assert error.code == 22205


# ------------------------------------------------------------------------------ messaging, paging
class TestMessagingAndApplications:
    def test_service_numbers(self, tenant: Client, state: EmulatorState) -> None:
        service = tenant.messaging.v1.services.create(friendly_name="tenant")
        phone = us_local(tenant, limit=1)[0].phone_number
        number = tenant.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        tenant.messaging.v1.services(service.sid).phone_numbers.create(phone_number_sid=number.sid)
        error = rest_error(
            lambda: tenant.messaging.v1.services(service.sid).phone_numbers.create(
                phone_number_sid=number.sid
            )
        )
        assert (error.status, error.code) == (409, 21710)
        listed = tenant.messaging.v1.services(service.sid).phone_numbers.list()
        assert [n.phone_number for n in listed] == [phone]
        assert [n.sid for n in state.messaging_service_numbers(service.sid)] == [number.sid]
        assert tenant.messaging.v1.services(service.sid).fetch().friendly_name == "tenant"

    def test_applications(self, tenant: Client, state: EmulatorState) -> None:
        apps = tenant.api.v2010.account.applications
        app = apps.create(friendly_name="fwd", voice_url="https://a.example", voice_method="POST")
        apps(app.sid).update(voice_url="https://b.example", voice_method="GET")
        [found] = apps.list(friendly_name="fwd")
        assert (found.voice_url, found.voice_method) == ("https://b.example", "GET")
        assert [a.sid for a in state.applications(tenant.username)] == [app.sid]

    def test_paging_follows_twilio_envelopes(self, tenant: Client, state: EmulatorState) -> None:
        for i in range(7):
            tenant.api.v2010.account.applications.create(friendly_name=f"app-{i}")
            tenant.messaging.v1.services.create(friendly_name=f"svc-{i}")
        state.clear_requests()
        assert len(tenant.api.v2010.account.applications.list(page_size=3)) == 7
        assert len(tenant.messaging.v1.services.list(page_size=3)) == 7
        pages = [(r.host, r.params.get("Page")) for r in state.requests]
        assert pages == [("api", None), ("api", "1"), ("api", "2")] + [
            ("messaging", None),
            ("messaging", "1"),
            ("messaging", "2"),
        ]


# ------------------------------------------------------------------------------ compliance
class TestCompliance:
    def test_seeded_bundles_and_their_documents(self, tenant: Client) -> None:
        rc = tenant.numbers.v2.regulatory_compliance
        rejected = rc.bundles.list(status="twilio-rejected")[0]
        objects = [i.object_sid[:2] for i in rc.bundles(rejected.sid).item_assignments.list()]
        assert sorted(objects) == ["AD", "IT", "RD", "RD"]
        [evaluation] = rc.bundles(rejected.sid).evaluations.list()
        assert evaluation.status == "noncompliant"
        assert "does not match" in evaluation.results[0]["failure_reason"]
        docs = [
            rc.supporting_documents(i.object_sid).fetch()
            for i in rc.bundles(rejected.sid).item_assignments.list()
            if i.object_sid.startswith("RD")
        ]
        assert sorted(d.status for d in docs) == ["approved", "rejected"]
        statuses = {(b.friendly_name, b.status) for b in rc.bundles.list(iso_country="DE")}
        assert ("Germany Mobile bundle (resubmitted)", "pending-review") in statuses
        assert rc.regulations.list(iso_country="FR", number_type="mobile", end_user_type="business")

    def test_trust_products_and_their_documents(self, tenant: Client, state: EmulatorState) -> None:
        trusthub = tenant.trusthub.v1
        products = {p.friendly_name: p for p in trusthub.trust_products.list()}
        assert products["A2P Messaging Profile"].status == "in-review"
        assert products["Secondary Customer Profile"].status == "twilio-approved"
        product = products["A2P Messaging Profile"]
        docs = [
            trusthub.supporting_documents(e.object_sid).fetch()
            for e in trusthub.trust_products(product.sid).trust_products_entity_assignments.list()
            if e.object_sid.startswith("RD")
        ]
        assert docs
        assert {d.status for d in docs} == {"PENDING_REVIEW"}
        state.set_trust_product_status(tenant.username, product.sid, "twilio-approved")
        assert trusthub.trust_products(product.sid).fetch().status == "twilio-approved"


# ------------------------------------------------------------------------------ senders
class CallbackSink:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                sink.received.append(
                    (self.path, dict(parse_qsl(body)), self.headers["X-Twilio-Signature"])
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/callbacks/senders"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sink() -> Iterator[CallbackSink]:
    receiver = CallbackSink()
    yield receiver
    receiver.close()


def create_sender(c: Client, phone: str, waba: str, callback: str) -> Any:
    return c.messaging.v2.channels_senders.create(
        SenderCreate(
            {
                "sender_id": f"whatsapp:{phone}",
                "configuration": {"waba_id": waba},
                "webhook": {"status_callback_url": callback, "status_callback_method": "POST"},
                "profile": {
                    "name": "Shop Berlin",
                    "about": "Your personal shopper",
                    "emails": [{"email": "berlin@shop.example", "label": "Email"}],
                    "websites": [{"website": "https://shop.example", "label": "Website"}],
                    "logo_url": "https://shop.example/logo.png",
                },
            }
        )
    )


class TestSenders:
    def test_online_with_signed_callbacks(
        self, tenant: Client, state: EmulatorState, sink: CallbackSink
    ) -> None:
        phone = us_local(tenant, limit=1)[0].phone_number
        tenant.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        sender = create_sender(tenant, phone, "1234567890", sink.url)
        assert sender.status == "CREATING"
        assert sender.profile["emails"][0]["email"]
        state.advance_clock(10)
        assert tenant.messaging.v2.channels_senders(sender.sid).fetch().status == "CREATING"
        state.advance_clock(30)
        fetched = tenant.messaging.v2.channels_senders(sender.sid).fetch()
        assert fetched.status == "ONLINE"
        assert fetched.properties["messaging_limit"]
        [(path, params, signature)] = sink.received
        assert (params["SenderSid"], params["Status"], params["PreviousStatus"]) == (
            sender.sid,
            "ONLINE",
            "CREATING",
        )
        assert RequestValidator(tenant.password).validate(sink.url, params, signature)
        assert not RequestValidator(state.master_auth_token).validate(sink.url, params, signature)
        state.set_sender_properties(sender.sid, quality_rating="HIGH", messaging_limit="10K")
        assert sink.received[-1][1]["QualityRating"] == "HIGH"
        listed = tenant.messaging.v2.channels_senders.list(channel="whatsapp")
        assert [s.properties["quality_rating"] for s in listed] == ["HIGH"]

    def test_bad_waba_goes_offline_with_reasons(
        self, tenant: Client, state: EmulatorState, sink: CallbackSink
    ) -> None:
        state.mark_waba_bad("666", "The WhatsApp Business Account was disabled by Meta")
        phone = us_local(tenant, limit=1)[0].phone_number
        sender = create_sender(tenant, phone, "666", sink.url)
        state.advance_clock(60)
        fetched = tenant.messaging.v2.channels_senders(sender.sid).fetch()
        assert fetched.status == "OFFLINE"
        assert "disabled by Meta" in fetched.offline_reasons[0]["message"]
        assert json.loads(sink.received[0][1]["OfflineReasons"])[0]["code"]

    def test_foreign_number_needs_verification_then_profile_update(
        self, tenant: Client, state: EmulatorState, sink: CallbackSink
    ) -> None:
        sender = create_sender(tenant, "+4915123456789", "42", sink.url)
        state.advance_clock(30)
        senders = tenant.messaging.v2.channels_senders
        assert senders(sender.sid).fetch().status == "PENDING_VERIFICATION"
        senders(sender.sid).update(SenderUpdate({"configuration": {"verification_code": "123456"}}))
        assert senders(sender.sid).fetch().status == "VERIFYING"
        state.advance_clock(30)
        assert senders(sender.sid).fetch().status == "ONLINE"
        senders(sender.sid).update(SenderUpdate({"profile": {"about": "New hours"}}))
        assert senders(sender.sid).fetch().status == "ONLINE:UPDATING"
        state.advance_clock(30)
        final = senders(sender.sid).fetch()
        assert (final.status, final.profile["about"]) == ("ONLINE", "New hours")
        deadline = time.monotonic() + 5
        while len(sink.received) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)  # update-triggered callbacks are sent in the background
        statuses = [params["Status"] for _, params, _ in sink.received]
        assert statuses == [
            "PENDING_VERIFICATION",
            "VERIFYING",
            "ONLINE",
            "ONLINE:UPDATING",
            "ONLINE",
        ]
        assert [s.sid for s in state.senders(tenant.username)] == [sender.sid]


# ------------------------------------------------------------------------------ faults
class TestFaults:
    def test_429_with_retry_after(self, tenant: Client, state: EmulatorState) -> None:
        state.add_fault(method="GET", path=r"/v1/TrustProducts$", status=429, retry_after=3)
        error = rest_error(lambda: tenant.trusthub.v1.trust_products(f"BU{'0' * 32}").fetch())
        assert error.status == 404  # not a list: the fault's path does not match
        failure = rest_error(lambda: tenant.trusthub.v1.trust_products.list())
        assert (failure.status, failure.code, failure.headers["retry-after"]) == (429, 20429, "3")
        assert len(tenant.trusthub.v1.trust_products.list()) == 2  # times=1: consumed

    def test_counted_and_rated_errors(self, tenant: Client, state: EmulatorState) -> None:
        fault = state.add_fault(method="POST", path=r"/Applications\.json$", status=503, times=2)
        create = tenant.api.v2010.account.applications.create
        assert rest_error(lambda: create(friendly_name="a")).status == 503
        assert rest_error(lambda: create(friendly_name="a")).code == 20503
        create(friendly_name="a")
        assert fault.hits == 2
        assert state.applications(tenant.username)[0].friendly_name == "a"
        state.add_fault(path=r"/Applications", status=500, times=None, rate=0.5)
        outcomes = []
        for _ in range(20):
            try:
                tenant.api.v2010.account.applications.list()
                outcomes.append(True)
            except TwilioException:
                outcomes.append(False)
        assert 0 < outcomes.count(False) < 20

    def test_dropped_connection_is_a_connection_error(
        self, tenant: Client, state: EmulatorState
    ) -> None:
        phone = us_local(tenant, limit=1)[0].phone_number
        state.add_fault(method="POST", path="/IncomingPhoneNumbers", kind="drop")
        with pytest.raises(requests.ConnectionError):
            tenant.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        assert state.owned_numbers(tenant.username) == []
        assert state.requests[-1].status == 0
        assert state.requests[-1].fault == "drop"

    def test_timeout_applies_nothing(
        self, tenant: Client, state: EmulatorState, client: ClientFactory
    ) -> None:
        impatient = client(tenant.username, tenant.password, timeout=0.3)
        phone = us_local(tenant, limit=1)[0].phone_number
        state.add_fault(method="POST", path="/IncomingPhoneNumbers", kind="timeout", delay=5)
        started = time.monotonic()
        with pytest.raises(requests.Timeout):
            impatient.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        assert time.monotonic() - started < 3
        assert state.owned_numbers(tenant.username) == []

    @pytest.mark.parametrize("status", [500, 0])
    def test_after_apply_leaves_the_change_done(
        self, tenant: Client, state: EmulatorState, status: int
    ) -> None:
        phone = us_local(tenant, limit=1)[0].phone_number
        state.add_fault(
            method="POST", path="/IncomingPhoneNumbers", kind="after_apply", status=status
        )
        expected: type[Exception] = TwilioRestException if status else requests.ConnectionError
        with pytest.raises(expected):
            tenant.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        assert [n.phone_number for n in state.owned_numbers(tenant.username)] == [phone]

    def test_latency(self, tenant: Client, state: EmulatorState) -> None:
        state.latency = 0.2
        started = time.monotonic()
        tenant.messaging.v1.services.list()
        assert time.monotonic() - started >= 0.2
        state.latency = 0
        state.add_fault(path="/Services", kind="latency", delay=0.3)
        started = time.monotonic()
        tenant.messaging.v1.services.list()
        assert time.monotonic() - started >= 0.3

    def test_in_process_drop_raises(self, state: EmulatorState) -> None:
        app = create_emulator_app(state)
        state.add_fault(path="/Accounts", kind="drop")
        transport = httpx.ASGITransport(app=app)

        async def call() -> None:
            async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
                await c.get("/api/2010-04-01/Accounts.json")

        import anyio

        with pytest.raises(ConnectionDropped):
            anyio.run(call)


# ------------------------------------------------------------------------------ admin over HTTP
class TestAdminApi:
    def test_state_requests_faults_clock_reset(
        self, server: EmulatorServer, tenant: Client, sink: CallbackSink
    ) -> None:
        admin = httpx.Client(base_url=f"{server.base_url}/_emulator", timeout=10)
        phone = us_local(tenant, limit=1)[0].phone_number
        tenant.api.v2010.account.incoming_phone_numbers.create(phone_number=phone)
        snapshot = admin.get("/state").json()
        assert [n["phone_number"] for n in snapshot["numbers"][tenant.username]] == [phone]
        log = admin.get("/requests", params={"host": "api", "path": "IncomingPhoneNumbers"}).json()
        [entry] = log["requests"]
        assert (entry["method"], entry["account_sid"], entry["status"]) == (
            "POST",
            tenant.username,
            201,
        )
        assert entry["params"]["PhoneNumber"] == phone
        fault = {"method": "GET", "path": "/Services", "status": 503, "retry_after": 1}
        assert admin.post("/faults", json=fault).status_code == 201
        tenant.messaging.v1.services.create(friendly_name="x")  # POST: the rule is for GET
        assert rest_error(lambda: tenant.messaging.v1.services.list()).status == 503
        assert admin.post("/faults", json={"kind": "nonsense"}).status_code == 400
        create_sender(tenant, phone, "77", sink.url)
        advanced = admin.post("/clock/advance", json={"seconds": 60}).json()
        assert [c["params"]["Status"] for c in advanced["callbacks"]] == ["ONLINE"]
        assert advanced["callbacks"][0]["status_code"] == 204
        assert admin.post("/reset").status_code == 200
        assert admin.get("/state").json()["accounts"][0]["sid"] == server.state.master_account_sid
        assert len(admin.get("/state").json()["accounts"]) == 1
        admin.close()
