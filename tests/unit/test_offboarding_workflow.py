"""Store offboarding on the in-memory gateway: its step sequence, and a crash before or after
each Twilio write followed by a retry or a reconciliation pass, which finishes it with every
number released once, nothing left recorded, and the store able to onboard again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db.all_models import Base
from clienteling_setup.db.session import make_engine, make_sessionmaker
from clienteling_setup.numbers.registry import refuse_while_offboarding
from clienteling_setup.offboarding.models import OFFBOARDED, StoreOffboarding
from clienteling_setup.offboarding.service import ALL, offboard_store, resume_offboardings
from clienteling_setup.onboarding.schemas import OnboardStoreRequest
from clienteling_setup.onboarding.service import onboard_store
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.stores.schemas import StoreWrite
from clienteling_setup.stores.service import put_store
from clienteling_setup.tenants.schemas import ConfigurationCreate
from clienteling_setup.tenants.service import enable
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.schemas import WhatsAppOnboardRequest
from clienteling_setup.whatsapp.service import WhatsAppPorts, onboard_whatsapp
from tests.fakes import FakeMessagingGateway, SimulatedCrash

TENANT = "acme"
STORE = "a"
SMS_NUMBER = "+12125550101"
WHATSAPP_NUMBER = "+12125550102"
WRITES = ["delete_sender", "release_number", "remove_number_from_messaging_service"]


@pytest.fixture
def uows(tmp_path: Path) -> Iterator[UnitsOfWork]:
    url = f"sqlite:///{tmp_path / 'unit.db'}"
    Base.metadata.create_all(create_engine(url))
    engine = make_engine(url)
    yield UnitsOfWork(make_sessionmaker(engine), SecretBox([SecretBox.generate_key()]))
    engine.dispose()


@pytest.fixture
def twilio(uows: UnitsOfWork, tmp_path: Path) -> FakeMessagingGateway:
    """A store on SMS, and on WhatsApp with a dedicated number."""
    gateway = FakeMessagingGateway()
    body = ConfigurationCreate(ecom_link="https://acme.example")
    enable(uows, gateway, "http://clienteling.test", TENANT, body)
    put_store(uows, TENANT, STORE, StoreWrite(name="Store a", country_code="US"))
    onboard_store(
        uows,
        gateway,
        TENANT,
        STORE,
        OnboardStoreRequest(phone_number=SMS_NUMBER),
        enable=False,
        actor=Actor("t"),
    )
    ports = WhatsAppPorts(
        gateway, LocalStorage(tmp_path, "http://x.test", b"k" * 16), "http://x.test"
    )
    request = WhatsAppOnboardRequest(
        waba_id="123456789012", profile_name="Store a", whatsapp_phone_number=WHATSAPP_NUMBER
    )
    onboard_whatsapp(uows, ports, TENANT, STORE, request, actor=Actor("t"))
    gateway.calls.clear()
    return gateway


def offboard(uows: UnitsOfWork, twilio: FakeMessagingGateway) -> StoreOffboarding:
    return offboard_store(uows, twilio, TENANT, STORE, ALL, release=True, actor=Actor("ops"))


def assert_all_taken_down(uows: UnitsOfWork, twilio: FakeMessagingGateway) -> None:
    acct = twilio.only_account()
    assert acct.numbers == {}
    assert acct.senders == {}
    assert all(members == [] for members in acct.members.values())
    assert twilio.calls["release_number"] <= 3  # two numbers, one of them perhaps twice
    with uows.of(TENANT) as uow:
        released = uow.ledger.page(after=None, limit=10, actions=("number_released",))
        assert sorted(e.phone_number or "" for e in released) == [SMS_NUMBER, WHATSAPP_NUMBER]
        assert {(e.actor, e.reason) for e in released} == {("ops", "offboarding")}
        assert uow.onboardings.get(STORE) is None
        assert uow.senders.get(STORE) is None
        assert uow.numbers.of_store(STORE) == []
        row = uow.offboardings.get(STORE)
        assert row is not None
        assert row.status == OFFBOARDED


def test_the_steps_in_order(uows: UnitsOfWork, twilio: FakeMessagingGateway) -> None:
    row = offboard(uows, twilio)
    assert [entry["step"] for entry in row.steps] == [
        "claimed",
        "whatsapp_sender",
        "whatsapp_number",
        "messaging_service",
        "sms_number",
        "offboarded",
    ]
    writes = {op: twilio.calls[op] for op in WRITES}
    assert writes == {
        "delete_sender": 1,
        "release_number": 2,
        "remove_number_from_messaging_service": 1,
    }
    assert twilio.calls["list_senders"] == twilio.calls["find_owned_number"] == 0
    assert_all_taken_down(uows, twilio)


def _points() -> list[tuple[str, str, int]]:
    points = [(when, op, 1) for op in WRITES for when in ("before", "after")]
    return [*points, ("before", "release_number", 2), ("after", "release_number", 2)]


@pytest.mark.parametrize(("when", "op", "nth"), _points())
@pytest.mark.parametrize("resume", ["retry", "sync"])
def test_a_crash_at_each_step_is_finished_by_a_retry_or_sync(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, when: str, op: str, nth: int, resume: str
) -> None:
    (twilio.crash_before if when == "before" else twilio.crash_after)(op, nth)
    with pytest.raises(SimulatedCrash):
        offboard(uows, twilio)
    with uows.of(TENANT) as uow:
        assert uow.offboardings.in_progress(STORE) is not None
        # Nothing may onboard the store while its offboarding is unfinished.
        with pytest.raises(errors.Conflict, match="being offboarded"):
            refuse_while_offboarding(uow, STORE)
    if resume == "retry":
        assert offboard(uows, twilio).status == OFFBOARDED
    else:
        assert resume_offboardings(uows, twilio, TENANT) == 1
    assert_all_taken_down(uows, twilio)
    # Onboarding the store again works, with a new number.
    row, created = onboard_store(
        uows,
        twilio,
        TENANT,
        STORE,
        OnboardStoreRequest(phone_number="+12125550103"),
        enable=False,
        actor=Actor("t"),
    )
    assert (row.status, created) == ("onboarded", True)


def test_an_answer_lost_after_a_release_counts_as_released(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    twilio.fail_after_apply("release_number")
    with pytest.raises(errors.UpstreamUnavailable):
        offboard(uows, twilio)
    assert offboard(uows, twilio).status == OFFBOARDED
    assert_all_taken_down(uows, twilio)
