"""Each Twilio-writing workflow on the in-memory gateway: its step sequence, a crash between
any two steps followed by a resume (one purchase, one of everything), and adoption of what an
earlier attempt left in Twilio. The database is a throwaway SQLite file; Twilio is the fake."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.ledger.models import NUMBER_BOUGHT
from clienteling_setup.numbers.purchase import number_friendly_name
from clienteling_setup.onboarding import groups
from clienteling_setup.onboarding.schemas import OnboardStoreRequest, SenderGroupWrite
from clienteling_setup.onboarding.service import onboard_store, resume_unfinished
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.providers.messaging import AccountCredentials, SenderProfile
from clienteling_setup.stores.schemas import StoreWrite
from clienteling_setup.stores.service import put_store
from clienteling_setup.tenants.schemas import ConfigurationCreate
from clienteling_setup.tenants.service import enable, put_opt_in
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.schemas import WhatsAppOnboardRequest
from clienteling_setup.whatsapp.service import WhatsAppPorts, onboard_whatsapp
from tests.fakes import FakeMessagingGateway, SimulatedCrash

TENANT = "acme"
BASE_URL = "http://clienteling.test"
A_NUMBER = "+12125550101"
B_NUMBER = "+12125550102"
WABA = "123456789012"
ALICE = Actor("alice", "req-alice")
BOB = Actor("bob", "req-bob")


def enabled(uows: UnitsOfWork, twilio: FakeMessagingGateway) -> None:
    enable(uows, twilio, BASE_URL, TENANT, ConfigurationCreate(ecom_link="https://acme.example"))
    put_opt_in(uows, TENANT, "Reply YES to hear from Acme.")
    for store_id in ("a", "b"):
        put_store(uows, TENANT, store_id, StoreWrite(name=f"Store {store_id}", country_code="US"))


def onboard(
    uows: UnitsOfWork,
    twilio: FakeMessagingGateway,
    store_id: str,
    number: str,
    actor: Actor = ALICE,
) -> tuple[str, bool]:
    row, created = onboard_store(
        uows,
        twilio,
        TENANT,
        store_id,
        OnboardStoreRequest(phone_number=number),
        enable=False,
        actor=actor,
    )
    return row.status, created


def purchases(uows: UnitsOfWork) -> list[tuple[str | None, str | None, str, str | None, str]]:
    """The ledger's purchases: (store, number, actor, request id, price)."""
    with uows.of(TENANT) as uow:
        entries = uow.ledger.page(after=None, limit=100, actions=(NUMBER_BOUGHT,))
        return [
            (e.store_id, e.phone_number, e.actor, e.request_id, f"{e.monthly_price} {e.price_unit}")
            for e in entries
        ]


def account(twilio: FakeMessagingGateway) -> AccountCredentials:
    sub = twilio.only_account().sub
    return AccountCredentials(sub.sid, sub.auth_token)


# -- enable -------------------------------------------------------------------------------

ENABLE_STEPS = ["create_subaccount", "create_messaging_service", "create_application"]


def test_enable_creates_each_resource_once(uows: UnitsOfWork, twilio: FakeMessagingGateway):
    enabled(uows, twilio)
    assert [op for op in ENABLE_STEPS if twilio.calls[op] == 1] == ENABLE_STEPS
    acct = twilio.only_account()
    assert len(acct.services) == 1
    assert len(acct.apps) == 1


@pytest.mark.parametrize("step", ENABLE_STEPS)
@pytest.mark.parametrize("how", ["crash", "answer lost"])
def test_enable_interrupted_after_a_step_then_retried_adopts_it(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, step: str, how: str
):
    body = ConfigurationCreate(ecom_link="https://acme.example")
    if how == "crash":
        twilio.crash_after(step)
        with pytest.raises(SimulatedCrash):
            enable(uows, twilio, BASE_URL, TENANT, body)
        tenant = enable(uows, twilio, BASE_URL, TENANT, body)
    else:
        # The create took effect but its answer was lost: the same call adopts it at once.
        twilio.fail_after_apply(step)
        tenant = enable(uows, twilio, BASE_URL, TENANT, body)
    assert len(twilio.accounts) == 1
    acct = twilio.only_account()
    assert (len(acct.services), len(acct.apps)) == (1, 1)
    assert tenant.subaccount_sid == acct.sub.sid
    assert tenant.messaging_service_sid in acct.services
    with pytest.raises(errors.Conflict, match="already configured"):
        enable(uows, twilio, BASE_URL, TENANT, body)


# -- SMS onboarding ---------------------------------------------------------------------------

SMS_WRITES = ["buy_number", "add_number_to_messaging_service"]


def test_sms_onboarding_step_sequence(uows: UnitsOfWork, twilio: FakeMessagingGateway):
    enabled(uows, twilio)
    twilio.calls.clear()
    assert onboard(uows, twilio, "a", A_NUMBER) == ("onboarded", True)
    # A first attempt: the purchase, then the Messaging Service; no look-up, no list.
    # The price is read once the number is owned (the real gateway keeps it a while).
    assert list(twilio.calls.elements()) == [SMS_WRITES[0], "monthly_number_price", *SMS_WRITES[1:]]
    number = twilio.only_account().numbers[A_NUMBER]
    assert number.friendly_name == number_friendly_name(TENANT, "a")
    assert number.voice_application_sid is not None  # set in the purchase itself
    assert onboard(uows, twilio, "a", A_NUMBER, BOB) == ("onboarded", False)
    assert twilio.purchases == [A_NUMBER]
    assert purchases(uows) == [("a", A_NUMBER, "alice", "req-alice", "1.15 USD")]


def _points() -> list[tuple[str, str]]:
    # Between any two steps: right after each Twilio call, and right before each one.
    calls = [*SMS_WRITES, "monthly_number_price"]
    return [("after", op) for op in calls] + [("before", op) for op in calls]


@pytest.mark.parametrize(("when", "op"), _points())
@pytest.mark.parametrize("resume", ["retry", "sync"])
def test_sms_onboarding_crash_between_steps_then_resume_buys_once(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, when: str, op: str, resume: str
):
    enabled(uows, twilio)
    (twilio.crash_after if when == "after" else twilio.crash_before)(op)
    with pytest.raises(SimulatedCrash):
        onboard(uows, twilio, "a", A_NUMBER)
    bought_before_crash = list(twilio.purchases)
    if resume == "retry":
        assert onboard(uows, twilio, "a", A_NUMBER, BOB)[0] == "onboarded"
    else:
        finished = resume_unfinished(uows, twilio, TENANT)
        with uows.of(TENANT) as uow:
            row = uow.onboardings.get("a")
            assert row is not None
            status = row.status
        if bought_before_crash:
            assert (finished, status) == (1, "onboarded")
        else:  # sync never buys: the number was not bought before the crash
            assert (finished, status) == (0, "in_progress")
            assert onboard(uows, twilio, "a", A_NUMBER, BOB)[0] == "onboarded"
    acct = twilio.only_account()
    assert twilio.purchases == [A_NUMBER]
    # One purchase, one ledger entry, naming the request that claimed the number and bought
    # it, whoever finished the onboarding.
    assert purchases(uows) == [("a", A_NUMBER, "alice", "req-alice", "1.15 USD")]
    service_sid = next(iter(acct.services))
    assert acct.members[service_sid] == [acct.numbers[A_NUMBER].sid]


def test_a_pricing_failure_neither_blocks_nor_fails_the_purchase(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    twilio.pricing_down = True
    assert onboard(uows, twilio, "a", A_NUMBER) == ("onboarded", True)
    assert twilio.purchases == [A_NUMBER]
    # Recorded all the same, the price unknown rather than guessed.
    assert purchases(uows) == [("a", A_NUMBER, "alice", "req-alice", "None None")]


def test_sms_onboarding_adopts_a_number_already_owned_and_in_the_service(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    acct = account(twilio)
    owned = twilio.buy_number(acct, A_NUMBER, friendly_name=number_friendly_name(TENANT, "a"))
    service_sid = next(iter(twilio.only_account().services))
    twilio.add_number_to_messaging_service(acct, service_sid, owned.sid)
    twilio.calls.clear()
    row, created = onboard_store(
        uows,
        twilio,
        TENANT,
        "a",
        OnboardStoreRequest(phone_number=A_NUMBER, phone_number_already_purchased=True),
        enable=False,
        actor=ALICE,
    )
    assert (row.status, created) == ("onboarded", True)
    assert twilio.calls["find_owned_number"] == 1
    assert twilio.calls["buy_number"] == 0
    # Added again: Twilio's "already in this service" counts as success, no list is read.
    assert twilio.calls["add_number_to_messaging_service"] == 1
    assert twilio.calls["set_number_voice_application"] == 1  # bought without it earlier
    assert twilio.only_account().members[service_sid] == [owned.sid]
    assert purchases(uows) == []  # the tenant had bought it: no cost started here


def test_sms_onboarding_retry_refuses_a_number_bought_for_another_store(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    twilio.crash_before("buy_number")
    with pytest.raises(SimulatedCrash):
        onboard(uows, twilio, "a", A_NUMBER)
    # Meanwhile the number was bought in Twilio for store b (outside the registry): the
    # retry, which looks the number up because an earlier attempt exists, does not take it.
    twilio.buy_number(account(twilio), A_NUMBER, friendly_name=number_friendly_name(TENANT, "b"))
    with pytest.raises(errors.Conflict, match="was bought for store 'b'"):
        onboard(uows, twilio, "a", A_NUMBER)
    assert twilio.only_account().numbers[A_NUMBER].friendly_name == number_friendly_name(
        TENANT, "b"
    )


def test_a_refused_purchase_releases_the_claim_for_another_number(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    twilio.unavailable.add(A_NUMBER)
    with pytest.raises(errors.AppError) as refused:
        onboard(uows, twilio, "a", A_NUMBER)
    assert refused.value.status_code == 400
    with uows.of(TENANT) as uow:
        assert uow.numbers.holder(A_NUMBER) is None
        assert uow.onboardings.get("a") is None
    assert onboard(uows, twilio, "a", B_NUMBER) == ("onboarded", True)


# -- the registry across channels -----------------------------------------------------------


def whatsapp(
    uows: UnitsOfWork,
    twilio: FakeMessagingGateway,
    store_id: str,
    number: str | None,
    actor: Actor = ALICE,
) -> str:
    ports = WhatsAppPorts(twilio, LocalStorage(Path("/nonexistent"), BASE_URL, b"k" * 16), BASE_URL)
    body = WhatsAppOnboardRequest(waba_id=WABA, profile_name="Acme", whatsapp_phone_number=number)
    row, _ = onboard_whatsapp(uows, ports, TENANT, store_id, body, actor=actor)
    return row.status


def test_an_sms_number_cannot_become_another_stores_whatsapp_number(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    onboard(uows, twilio, "b", B_NUMBER)
    with pytest.raises(errors.Conflict, match=r"claimed by store 'a'"):
        whatsapp(uows, twilio, "b", A_NUMBER)
    with uows.of(TENANT) as uow:
        assert uow.senders.get("b") is None  # the loser keeps nothing
    assert whatsapp(uows, twilio, "b", "+12125550199") == "creating"  # another number works


def test_a_whatsapp_number_cannot_become_another_stores_sms_number(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    whatsapp(uows, twilio, "a", "+12125550199")
    with pytest.raises(errors.Conflict, match=r"claimed by store 'a' \(whatsapp\)"):
        onboard(uows, twilio, "b", "+12125550199")
    assert twilio.only_account().numbers["+12125550199"].friendly_name == number_friendly_name(
        TENANT, "a", "whatsapp"
    )


# -- WhatsApp registration ------------------------------------------------------------------

WHATSAPP_WRITES = ["buy_number", "monthly_number_price", "create_sender"]


@pytest.mark.parametrize("op", WHATSAPP_WRITES)
def test_whatsapp_crash_after_a_step_then_retry_buys_and_registers_once(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, op: str
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    twilio.crash_after(op)
    with pytest.raises(SimulatedCrash):
        whatsapp(uows, twilio, "a", "+12125550199")
    assert whatsapp(uows, twilio, "a", "+12125550199", BOB) == "creating"
    acct = twilio.only_account()
    assert twilio.purchases == [A_NUMBER, "+12125550199"]
    assert purchases(uows) == [
        ("a", A_NUMBER, "alice", "req-alice", "1.15 USD"),
        ("a", "+12125550199", "alice", "req-alice", "1.15 USD"),
    ]
    assert [s.sender_id for s in acct.senders.values()] == ["whatsapp:+12125550199"]


def test_whatsapp_registration_creates_without_looking(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    twilio.calls.clear()
    assert whatsapp(uows, twilio, "a", None) == "creating"
    assert list(twilio.calls.elements()) == ["create_sender"]


def test_whatsapp_retry_adopts_the_sender_an_earlier_attempt_created(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    twilio.crash_after("create_sender")
    with pytest.raises(SimulatedCrash):
        whatsapp(uows, twilio, "a", None)
    (earlier,) = twilio.only_account().senders
    twilio.calls.clear()
    assert whatsapp(uows, twilio, "a", None) == "creating"
    assert twilio.calls == Counter({"list_senders": 1, "update_sender": 1})
    assert list(twilio.only_account().senders) == [earlier]


def test_whatsapp_adopts_a_sender_made_outside_the_service(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    outside = twilio.create_sender(
        account(twilio),
        sender_id=f"whatsapp:{A_NUMBER}",
        waba_id=WABA,
        profile=SenderProfile(name="Acme"),
        status_callback_url=BASE_URL,
    )
    twilio.calls.clear()
    assert whatsapp(uows, twilio, "a", None) == "creating"
    # The create's refusal reveals it; only then is the list read.
    assert list(twilio.calls.elements()) == ["create_sender", "list_senders", "update_sender"]
    assert list(twilio.only_account().senders) == [outside.sid]


def test_whatsapp_create_answer_lost_is_adopted(uows: UnitsOfWork, twilio: FakeMessagingGateway):
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    twilio.fail_after_apply("create_sender")
    assert whatsapp(uows, twilio, "a", None) == "creating"
    assert len(twilio.only_account().senders) == 1


# -- sender groups ---------------------------------------------------------------------------


def test_group_crash_after_creating_its_service_then_retry_adopts_it(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    body = SenderGroupWrite(name="East")
    twilio.crash_after("create_messaging_service")
    with pytest.raises(SimulatedCrash):
        groups.put_group(uows, twilio, TENANT, "east", body)
    with pytest.raises(errors.NotFound):
        groups.get_group(uows, TENANT, "east")  # claimed, not created yet
    group, created = groups.put_group(uows, twilio, TENANT, "east", body)
    assert created
    assert len(twilio.only_account().services) == 2
    assert group.messaging_service_sid in twilio.only_account().services
    _, created_again = groups.put_group(uows, twilio, TENANT, "east", body)
    assert not created_again
    assert len(twilio.only_account().services) == 2


def test_group_ids_sharing_a_long_prefix_get_their_own_service(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
):
    enabled(uows, twilio)
    prefix = "region-" + "x" * 60
    first, _ = groups.put_group(uows, twilio, TENANT, f"{prefix}-1", SenderGroupWrite(name="1"))
    second, _ = groups.put_group(uows, twilio, TENANT, f"{prefix}-2", SenderGroupWrite(name="2"))
    assert first.messaging_service_sid != second.messaging_service_sid
    names = [s.friendly_name for s in twilio.only_account().services.values()]
    assert len(set(names)) == 3
    assert all(len(name) <= 64 for name in names)
