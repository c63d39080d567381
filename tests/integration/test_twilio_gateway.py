"""`TwilioGateway` over real HTTP against the built-in Twilio emulator.

The same adapter code as in production runs here: the official SDK, `GatewayHttpClient` (only the
base URL differs), its retries and timeouts, and the error map. The emulator's request log shows
what reached "Twilio".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MonthlyPrice,
    NotFound,
    NumberUnavailable,
    ProviderFailure,
    ProviderUnavailable,
    RegulatoryRejected,
    SenderProfile,
)
from clienteling_setup.providers.twilio import TwilioGateway
from twilio_emulator import EmulatorServer, EmulatorState

PURCHASE = r"/IncomingPhoneNumbers\.json$"
NUMBERS_LIST = r"/IncomingPhoneNumbers\.json$"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """An emulator of this module's own: its tests reset it, which a shared one must not be."""
    server = EmulatorServer(EmulatorState(seed=1), host="127.0.0.1", port=0).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def state(server: EmulatorServer) -> EmulatorState:
    server.state.reset()
    return server.state


GatewayFactory = Callable[..., TwilioGateway]


@pytest.fixture
def make(state: EmulatorState, server: EmulatorServer) -> Iterator[GatewayFactory]:
    """Gateways on this emulator with fast backoff; `make(timeout=..., max_attempts=...)`."""
    made: list[TwilioGateway] = []

    def factory(
        *, timeout: float = 5.0, max_attempts: int = 4, max_total_wait: float = 10.0
    ) -> TwilioGateway:
        gateway = TwilioGateway(
            state.master_account_sid,
            state.master_auth_token,
            base_url=server.base_url,
            timeout=timeout,
            max_attempts=max_attempts,
            backoff_base=0.01,
            max_total_wait=max_total_wait,
        )
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        gateway.close()


@pytest.fixture
def gateway(make: GatewayFactory) -> TwilioGateway:
    return make()


@pytest.fixture
def tenant(gateway: TwilioGateway, state: EmulatorState) -> AccountCredentials:
    sub = gateway.create_subaccount("tenant-acme")
    state.clear_requests()
    return AccountCredentials(sub.sid, sub.auth_token)


def logged(state: EmulatorState, method: str, path_regex: str) -> list[Any]:
    return [r for r in state.requests if r.method == method and re.search(path_regex, r.path)]


def first_us_number(gateway: TwilioGateway, tenant: AccountCredentials) -> str:
    found = gateway.search_available_numbers(tenant, "US", "local", limit=1)
    assert found
    return found[0].phone_number


class TestNumberPrices:
    """Prices come from the Pricing API once per country and stay a while; a failure neither
    repeats at once nor forgets prices already known."""

    @pytest.fixture
    def clock(self) -> list[float]:
        return [1000.0]

    @pytest.fixture
    def priced(
        self, state: EmulatorState, server: EmulatorServer, clock: list[float]
    ) -> Iterator[TwilioGateway]:
        gateway = TwilioGateway(
            state.master_account_sid,
            state.master_auth_token,
            base_url=server.base_url,
            max_attempts=1,
            price_ttl=600.0,
            clock=lambda: clock[0],
        )
        yield gateway
        gateway.close()

    def test_one_call_per_country_until_the_prices_age(
        self, priced: TwilioGateway, state: EmulatorState, clock: list[float]
    ) -> None:
        assert priced.monthly_number_price("US", "local") == MonthlyPrice("1.15", "USD")
        assert priced.monthly_number_price("us", "toll-free") == MonthlyPrice("2.15", "USD")
        assert priced.monthly_number_price("DE", "mobile") == MonthlyPrice("12.00", "USD")
        assert len(logged(state, "GET", r"^/v1/PhoneNumbers/Countries/")) == 2
        assert {r.account_sid for r in state.requests} == {state.master_account_sid}
        clock[0] += 601
        assert priced.monthly_number_price("US", "local") == MonthlyPrice("1.15", "USD")
        assert len(logged(state, "GET", r"^/v1/PhoneNumbers/Countries/US$")) == 2

    def test_a_failure_is_remembered_briefly(
        self, priced: TwilioGateway, state: EmulatorState, clock: list[float]
    ) -> None:
        state.faults.add(kind="error", path=r"/pricing/", status=503, times=None)
        for _ in range(3):
            with pytest.raises(ProviderUnavailable):
                priced.monthly_number_price("GB", "mobile")
        assert len(logged(state, "GET", r"^/v1/PhoneNumbers/Countries/GB$")) == 1
        state.faults.clear()
        clock[0] += 31
        assert priced.monthly_number_price("GB", "mobile") == MonthlyPrice("1.15", "USD")

    def test_known_prices_outlive_a_failure(
        self, priced: TwilioGateway, state: EmulatorState, clock: list[float]
    ) -> None:
        assert priced.monthly_number_price("AU", "mobile") == MonthlyPrice("6.50", "USD")
        clock[0] += 601
        state.faults.add(kind="error", path=r"/pricing/", status=500, times=None)
        assert priced.monthly_number_price("AU", "mobile") == MonthlyPrice("6.50", "USD")
        assert priced.monthly_number_price("AU", "mobile") == MonthlyPrice("6.50", "USD")
        assert len(logged(state, "GET", r"^/v1/PhoneNumbers/Countries/AU$")) == 2


class TestSubaccounts:
    def test_create_find_fetch(self, gateway: TwilioGateway, state: EmulatorState) -> None:
        created = gateway.create_subaccount("tenant-acme")
        assert created.sid.startswith("AC")
        assert created.status == "active"
        assert created.auth_token

        assert gateway.find_subaccount("tenant-acme") == created
        assert gateway.find_subaccount("tenant-unknown") is None
        assert gateway.fetch_subaccount(created.sid).friendly_name == "tenant-acme"
        assert {r.account_sid for r in state.requests} == {state.master_account_sid}

    def test_fetch_unknown_is_not_found(self, gateway: TwilioGateway) -> None:
        with pytest.raises(NotFound):
            gateway.fetch_subaccount("AC" + "f" * 32)


class TestMessagingServices:
    def test_create_find_and_numbers(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        assert gateway.find_messaging_service(tenant, "acme-sms") is None
        service = gateway.create_messaging_service(tenant, "acme-sms")
        assert gateway.find_messaging_service(tenant, "acme-sms") == service

        number = gateway.buy_number(
            tenant, first_us_number(gateway, tenant), friendly_name="store-1"
        )
        other = gateway.buy_number(tenant, first_us_number(gateway, tenant), friendly_name="s-2")
        assert not gateway.messaging_service_has_number(tenant, service.sid, number.sid)
        gateway.add_number_to_messaging_service(tenant, service.sid, number.sid)
        gateway.add_number_to_messaging_service(tenant, service.sid, number.sid)  # idempotent
        assert gateway.messaging_service_has_number(tenant, service.sid, number.sid)
        assert not gateway.messaging_service_has_number(tenant, service.sid, other.sid)


class TestApplications:
    def test_create_find_update(self, gateway: TwilioGateway, tenant: AccountCredentials) -> None:
        assert gateway.find_application(tenant, "acme-forwarding") is None
        app = gateway.create_application(tenant, "acme-forwarding", "https://example.test/v1")
        assert app.voice_url == "https://example.test/v1"
        assert gateway.find_application(tenant, "acme-forwarding") == app
        updated = gateway.update_application(tenant, app.sid, "https://example.test/v2")
        assert (updated.sid, updated.voice_url) == (app.sid, "https://example.test/v2")


class TestNumbers:
    def test_search_is_sms_capable_and_limited(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        found = gateway.search_available_numbers(tenant, "US", "local", limit=3)
        assert 0 < len(found) <= 3
        assert all(
            n.sms and n.iso_country == "US" and n.phone_number.startswith("+1") for n in found
        )

    def test_search_of_a_type_the_country_lacks_is_empty(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        assert gateway.search_available_numbers(tenant, "US", "mobile") == []

    def test_buy_find_list_and_point_voice(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        phone = first_us_number(gateway, tenant)
        bought = gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert (bought.phone_number, bought.friendly_name) == (phone, "store-1")
        assert [n.phone_number for n in state.owned_numbers(tenant.account_sid)] == [phone]
        assert gateway.find_owned_number(tenant, phone) == bought
        assert gateway.find_owned_number(tenant, "+15005550006") is None
        assert [n.sid for n in gateway.list_owned_numbers(tenant)] == [bought.sid]

        app = gateway.create_application(tenant, "fwd", "https://example.test/v")
        pointed = gateway.set_number_voice_application(tenant, bought.sid, app.sid)
        assert pointed.voice_application_sid == app.sid

    def test_buying_an_owned_number_again_succeeds(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        phone = first_us_number(gateway, tenant)
        first = gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert gateway.buy_number(tenant, phone, friendly_name="store-1").sid == first.sid

    def test_a_number_taken_meanwhile_is_unavailable(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        phone = first_us_number(gateway, tenant)
        state.make_number_unavailable(phone)
        with pytest.raises(NumberUnavailable) as raised:
            gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert (raised.value.code, raised.value.status) == (21422, 400)

    def test_a_regulated_number_without_bundle_is_rejected(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        (number,) = gateway.search_available_numbers(tenant, "DE", "mobile", limit=1)
        address = gateway.list_addresses(tenant, "DE")[0]
        with pytest.raises(RegulatoryRejected) as raised:
            gateway.buy_number(
                tenant, number.phone_number, friendly_name="s", address_sid=address.sid
            )
        assert raised.value.code == 21649

    def test_a_regulated_number_with_its_bundle(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        bundle = next(
            b
            for b in gateway.list_bundles(tenant, "DE")
            if b.status == "twilio-approved" and b.number_type == "mobile"
        )
        address_sid = gateway.bundle_address_sid(tenant, bundle.sid)
        (number,) = gateway.search_available_numbers(tenant, "DE", "mobile", limit=1)
        bought = gateway.buy_number(
            tenant,
            number.phone_number,
            friendly_name="berlin",
            address_sid=address_sid,
            bundle_sid=bundle.sid,
        )
        assert (bought.bundle_sid, bought.address_sid) == (bundle.sid, address_sid)


class TestCompliance:
    def test_addresses_by_country(self, gateway: TwilioGateway, tenant: AccountCredentials) -> None:
        addresses = gateway.list_addresses(tenant, "de")
        assert addresses
        assert {a.iso_country for a in addresses} == {"DE"}

    def test_bundles(self, gateway: TwilioGateway, tenant: AccountCredentials) -> None:
        fr = gateway.list_bundles(tenant, "FR")
        assert {b.iso_country for b in fr} == {"FR"}
        rejected = next(b for b in fr if b.status == "twilio-rejected")
        assert rejected.failure_reason
        assert "business name" in rejected.failure_reason
        assert next(b for b in fr if b.status == "twilio-approved").failure_reason is None

        every = gateway.list_bundles(tenant)
        assert {"GB", "DE", "FR"} <= {b.iso_country for b in every}
        assert all(b.number_type for b in every)

        fetched = gateway.fetch_bundle(tenant, rejected.sid)
        assert fetched == rejected

        address = gateway.bundle_address_sid(tenant, rejected.sid)
        assert address is not None
        assert address in {a.sid for a in gateway.list_addresses(tenant, "FR")}
        docs = gateway.list_bundle_documents(tenant, rejected.sid)
        assert docs
        assert all(d.sid.startswith("RD") and d.status for d in docs)

    def test_unknown_bundle_is_not_found(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        with pytest.raises(NotFound):
            gateway.fetch_bundle(tenant, "BU" + "f" * 32)

    def test_regulations(self, gateway: TwilioGateway, tenant: AccountCredentials) -> None:
        regulations = gateway.list_regulations(tenant, "DE", "mobile")
        assert regulations
        assert {(r.iso_country, r.number_type) for r in regulations} == {("DE", "mobile")}

    def test_trust_products(self, gateway: TwilioGateway, tenant: AccountCredentials) -> None:
        products = gateway.list_trust_products(tenant)
        assert {p.status for p in products} == {"twilio-approved", "in-review"}
        approved = next(p for p in products if p.status == "twilio-approved")
        assert gateway.fetch_trust_product(tenant, approved.sid) == approved
        docs = gateway.list_trust_product_documents(tenant, approved.sid)
        assert docs
        assert all(d.sid.startswith("RD") for d in docs)


PROFILE = SenderProfile(
    name="Acme Berlin",
    about="Your Acme store",
    emails=("berlin@acme.test",),
    websites=("https://acme.test",),
)


class TestSenders:
    def test_lifecycle(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        phone = first_us_number(gateway, tenant)
        gateway.buy_number(tenant, phone, friendly_name="store-1")
        sender = gateway.create_sender(
            tenant,
            sender_id=f"whatsapp:{phone}",
            waba_id="1234567890",
            profile=PROFILE,
            status_callback_url="http://127.0.0.1:9/callbacks",
        )
        assert (sender.sender_id, sender.status, sender.waba_id) == (
            f"whatsapp:{phone}",
            "CREATING",
            "1234567890",
        )
        assert gateway.fetch_sender(tenant, sender.sid).sid == sender.sid
        assert [s.sid for s in gateway.list_senders(tenant)] == [sender.sid]

        updated = gateway.update_sender(
            tenant,
            sender.sid,
            profile=SenderProfile(name="Acme Berlin Mitte"),
            status_callback_url="http://127.0.0.1:9/callbacks",
        )
        assert updated.sid == sender.sid

        state.set_sender_status(sender.sid, "ONLINE")
        state.set_sender_properties(sender.sid, quality_rating="HIGH", messaging_limit="1K")
        online = gateway.fetch_sender(tenant, sender.sid)
        assert (online.status, online.quality_rating, online.messaging_limit) == (
            "ONLINE",
            "HIGH",
            "1K",
        )

    def test_unknown_sender_is_not_found(
        self, gateway: TwilioGateway, tenant: AccountCredentials
    ) -> None:
        with pytest.raises(NotFound):
            gateway.fetch_sender(tenant, "XE" + "f" * 32)


class TestCredentials:
    def test_tenant_calls_use_the_subaccounts_own_credentials(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        gateway.list_addresses(tenant, "US")
        gateway.list_bundles(tenant, "GB")
        gateway.list_trust_products(tenant)
        gateway.find_messaging_service(tenant, "x")
        gateway.list_senders(tenant)
        hosts = {r.host for r in state.requests}
        assert hosts == {"api", "numbers", "trusthub", "messaging"}
        assert {r.account_sid for r in state.requests} == {tenant.account_sid}


class TestRetries:
    def test_429_waits_as_long_as_retry_after_says(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        state.add_fault(method="GET", path=NUMBERS_LIST, status=429, code=20429, retry_after=0.4)
        started = time.monotonic()
        assert gateway.list_owned_numbers(tenant) == []
        waited = time.monotonic() - started
        assert waited >= 0.4
        assert [r.status for r in logged(state, "GET", NUMBERS_LIST)] == [429, 200]

    @pytest.mark.parametrize("statuses", [(500,), (503,), (500, 503)])
    def test_5xx_is_retried(
        self,
        statuses: tuple[int, ...],
        gateway: TwilioGateway,
        tenant: AccountCredentials,
        state: EmulatorState,
    ) -> None:
        for status in statuses:
            state.add_fault(method="GET", path=r"/v1/TrustProducts$", status=status)
        assert len(gateway.list_trust_products(tenant)) == 2
        assert [r.status for r in logged(state, "GET", r"/v1/TrustProducts$")] == [
            *statuses,
            200,
        ]

    def test_a_dropped_connection_is_retried(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        state.add_fault(method="GET", path=r"/Addresses\.json$", kind="drop")
        assert gateway.list_addresses(tenant, "US")
        assert len(logged(state, "GET", r"/Addresses\.json$")) == 2

    def test_retries_are_bounded_by_attempts(
        self, make: GatewayFactory, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        gateway = make(max_attempts=3)
        state.add_fault(method="GET", path=NUMBERS_LIST, status=429, code=20429, times=None)
        with pytest.raises(ProviderUnavailable) as raised:
            gateway.list_owned_numbers(tenant)
        assert (raised.value.code, raised.value.status) == (20429, 429)
        assert len(logged(state, "GET", NUMBERS_LIST)) == 3

    def test_retries_are_bounded_by_total_wait(
        self, make: GatewayFactory, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        gateway = make(max_total_wait=1.0)
        state.add_fault(
            method="GET", path=NUMBERS_LIST, status=429, code=20429, retry_after=5, times=None
        )
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable) as raised:
            gateway.list_owned_numbers(tenant)
        assert time.monotonic() - started < 1.0
        assert raised.value.retry_after == 5  # Twilio's advice is passed on to our caller
        assert len(logged(state, "GET", NUMBERS_LIST)) == 1

    def test_a_persistent_5xx_is_a_provider_failure(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        state.add_fault(method="GET", path=r"/v1/TrustProducts$", status=500, times=None)
        with pytest.raises(ProviderFailure) as raised:
            gateway.list_trust_products(tenant)
        assert raised.value.status == 500
        assert len(logged(state, "GET", r"/v1/TrustProducts$")) == 4


class TestPurchaseIsNeverRetried:
    @pytest.mark.parametrize(
        ("status", "error"), [(500, ProviderFailure), (503, ProviderUnavailable)]
    )
    def test_a_failed_purchase_is_sent_once(
        self,
        status: int,
        error: type[Exception],
        gateway: TwilioGateway,
        tenant: AccountCredentials,
        state: EmulatorState,
    ) -> None:
        phone = first_us_number(gateway, tenant)
        state.add_fault(method="POST", path=PURCHASE, status=status, times=None)
        with pytest.raises(error):
            gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert len(logged(state, "POST", PURCHASE)) == 1
        assert state.owned_numbers(tenant.account_sid) == []

    def test_a_rate_limited_purchase_is_not_retried(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        phone = first_us_number(gateway, tenant)
        state.add_fault(method="POST", path=PURCHASE, status=429, code=20429, retry_after=2)
        with pytest.raises(ProviderUnavailable) as raised:
            gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert raised.value.retry_after == 2
        assert len(logged(state, "POST", PURCHASE)) == 1

    @pytest.mark.parametrize("status", [500, 0])  # 0: the connection drops after the purchase
    def test_an_ambiguous_failure_is_resolved_by_lookup(
        self,
        status: int,
        gateway: TwilioGateway,
        tenant: AccountCredentials,
        state: EmulatorState,
    ) -> None:
        phone = first_us_number(gateway, tenant)
        state.add_fault(method="POST", path=PURCHASE, kind="after_apply", status=status)
        bought = gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert bought.phone_number == phone
        assert [n.sid for n in state.owned_numbers(tenant.account_sid)] == [bought.sid]
        assert len(logged(state, "POST", PURCHASE)) == 1

    def test_a_dropped_purchase_that_did_not_happen(
        self, gateway: TwilioGateway, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        phone = first_us_number(gateway, tenant)
        state.add_fault(method="POST", path=PURCHASE, kind="drop")
        with pytest.raises(ProviderUnavailable):
            gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert len(logged(state, "POST", PURCHASE)) == 1
        assert state.owned_numbers(tenant.account_sid) == []


class TestTimeouts:
    def test_a_hanging_read_is_unavailable(
        self, make: GatewayFactory, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        gateway = make(timeout=0.3, max_attempts=2)
        state.add_fault(
            method="GET", path=r"/v1/TrustProducts$", kind="timeout", delay=2, times=None
        )
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            gateway.list_trust_products(tenant)
        assert time.monotonic() - started < 1.5
        assert len(logged(state, "GET", r"/v1/TrustProducts$")) == 2

    def test_a_purchase_that_times_out_after_applying_is_found(
        self, make: GatewayFactory, tenant: AccountCredentials, state: EmulatorState
    ) -> None:
        gateway = make(timeout=0.3)
        phone = first_us_number(gateway, tenant)
        state.add_fault(method="POST", path=PURCHASE, kind="after_apply", status=200, delay=1.0)
        bought = gateway.buy_number(tenant, phone, friendly_name="store-1")
        assert bought.phone_number == phone
        assert len(logged(state, "POST", PURCHASE)) == 1
