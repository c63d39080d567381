"""Orphan numbers on the in-memory Twilio: what counts as one at each point of an onboarding
that buys a number, and releasing one interrupted between any two of its steps (one release in
Twilio, one ledger entry, and no store able to take the number meanwhile)."""

from __future__ import annotations

import pytest

from clienteling_setup import errors
from clienteling_setup.auth.actor import SYNC, Actor
from clienteling_setup.jobs.models import OnboardingJobItem
from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED
from clienteling_setup.numbers.models import RELEASE_IN_PROGRESS, RELEASED
from clienteling_setup.offboarding.models import StoreOffboarding
from clienteling_setup.orphans.service import (
    list_orphans,
    refresh_owned_numbers,
    release_orphan,
    resume_releases,
)
from clienteling_setup.providers.messaging import MonthlyPrice, OwnedNumber
from clienteling_setup.unit_of_work import UnitsOfWork
from tests.fakes import FakeMessagingGateway, SimulatedCrash
from tests.unit.test_workflows import A_NUMBER, B_NUMBER, TENANT, account, enabled, onboard

ALICE = Actor("alice", "req-1")
BY_HAND = "+12125550199"


def _by_hand(twilio: FakeMessagingGateway, number: str = BY_HAND) -> str:
    """A number bought in the Twilio Console: the service took no part."""
    sid = f"PN{abs(hash(number)):032x}"[:34]
    owned = OwnedNumber(sid, number, "front desk", None, None, None, "local")
    twilio.only_account().numbers[number] = owned
    return sid


def _orphans(uows: UnitsOfWork, twilio: FakeMessagingGateway) -> list[str]:
    """The orphans after a listing of the account, as reconciliation does it."""
    refresh_owned_numbers(uows, twilio, TENANT, account(twilio))
    return [o.phone_number for o in list_orphans(uows, TENANT)]


def _released_entries(uows: UnitsOfWork, sid: str) -> list[str]:
    with uows.of(TENANT) as uow:
        entries = uow.ledger.page(after=None, limit=100, actions=(NUMBER_RELEASED,))
    return [e.actor for e in entries if e.sid == sid]


def test_a_number_is_held_from_its_claim_through_a_purchase_nobody_recorded(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    """The onboarding commits its claim, Twilio sells the number, and the process dies before
    recording the purchase: the account owns a number no row records yet. It is not an orphan,
    and its release is refused, until the onboarding is resumed (or forever)."""
    enabled(uows, twilio)
    twilio.crash_after("buy_number")
    with pytest.raises(SimulatedCrash):
        onboard(uows, twilio, "a", A_NUMBER)
    assert A_NUMBER in twilio.only_account().numbers
    with uows.of(TENANT) as uow:
        row = uow.onboardings.get("a")
        assert row is not None
        assert row.number_sid is None

    assert _orphans(uows, twilio) == []
    sid = twilio.only_account().numbers[A_NUMBER].sid
    with pytest.raises(errors.Conflict, match="store 'a'"):
        release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    assert A_NUMBER in twilio.only_account().numbers
    assert onboard(uows, twilio, "a", A_NUMBER) == ("onboarded", True)
    assert twilio.purchases == [A_NUMBER]


def test_a_number_bought_by_hand_is_an_orphan_with_its_list_price(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    enabled(uows, twilio)
    onboard(uows, twilio, "a", A_NUMBER)
    _by_hand(twilio)
    twilio.pricing_down = True  # a price that cannot be read stays unknown; the pass goes on
    assert _orphans(uows, twilio) == [BY_HAND]
    assert list_orphans(uows, TENANT)[0].monthly_price is None
    twilio.pricing_down = False
    assert _orphans(uows, twilio) == [BY_HAND]
    (orphan,) = list_orphans(uows, TENANT)
    assert (orphan.iso_country, orphan.monthly_price, orphan.price_unit) == ("US", "1.15", "USD")


def test_an_orphan_the_service_bought_costs_what_its_purchase_cost(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    """A purchase the ledger recorded (with its price) whose store no longer claims it."""
    enabled(uows, twilio)
    sid = _by_hand(twilio)
    with uows.of(TENANT) as uow:
        uow.ledger.record(
            sid,
            NUMBER_BOUGHT,
            account_sid=account(twilio).account_sid,
            actor="bob",
            monthly_price="2.00",
            price_unit="EUR",
        )
    assert _orphans(uows, twilio) == [BY_HAND]
    (orphan,) = list_orphans(uows, TENANT)
    assert (orphan.monthly_price, orphan.price_unit) == ("2.00", "EUR")


@pytest.mark.parametrize("crash", ["before", "after"])
def test_a_release_interrupted_around_twilio_is_finished_once_by_the_same_request(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, crash: str
) -> None:
    enabled(uows, twilio)
    sid = _by_hand(twilio)
    assert _orphans(uows, twilio) == [BY_HAND]
    if crash == "before":
        twilio.crash_before("release_number")
    else:
        twilio.crash_after("release_number")  # Twilio released it; nothing recorded
    with pytest.raises(SimulatedCrash):
        release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    with uows.of(TENANT) as uow:
        row = uow.number_releases.get(sid)
        assert row is not None
        assert row.status == RELEASE_IN_PROGRESS
    # Meanwhile the number is held for its release: no store can claim it.
    with pytest.raises(errors.Conflict, match="release of orphan number"):
        onboard(uows, twilio, "a", BY_HAND)
    assert _orphans(uows, twilio) == []

    row = release_orphan(uows, twilio, TENANT, sid, actor=Actor("bob", "req-2"))
    assert (row.status, row.actor, row.request_id) == (RELEASED, "alice", "req-1")
    assert BY_HAND not in twilio.only_account().numbers
    assert _released_entries(uows, sid) == ["alice"]
    again = release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    assert (again.status, again.released_at) == (RELEASED, row.released_at)
    assert twilio.calls["release_number"] == 2
    assert _orphans(uows, twilio) == []
    with uows.of(TENANT) as uow:
        assert uow.numbers.holder(BY_HAND) is None


def test_reconciliation_finishes_an_interrupted_release(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    enabled(uows, twilio)
    sid = _by_hand(twilio)
    _orphans(uows, twilio)
    twilio.fail_after_apply("release_number")  # Twilio released it; the answer was lost
    with pytest.raises(errors.UpstreamUnavailable):
        release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    assert resume_releases(uows, twilio, TENANT) == 1
    assert resume_releases(uows, twilio, TENANT) == 0
    assert _released_entries(uows, sid) == ["alice"]  # the asker, not the sync
    assert SYNC.subject not in _released_entries(uows, sid)


@pytest.mark.parametrize("holder", ["offboarding", "job"])
def test_release_refuses_a_number_an_offboarding_or_a_job_names(
    uows: UnitsOfWork, twilio: FakeMessagingGateway, holder: str
) -> None:
    """Each holds its claim too; a number they name is refused even without one."""
    enabled(uows, twilio)
    sid = _by_hand(twilio, B_NUMBER)
    with uows.of(TENANT) as uow:
        if holder == "offboarding":
            uow.offboardings.add(
                StoreOffboarding(
                    store_id="b", channels=["sms"], release_number=True, phone_number=B_NUMBER
                )
            )
            expected = "offboarding of store 'b'"
        else:
            item = OnboardingJobItem(job_id="j1", store_id="b", position=0, phone_number=B_NUMBER)
            uow.job_items.add(item)
            expected = "onboarding job j1"
    assert _orphans(uows, twilio) == []
    with pytest.raises(errors.Conflict, match=expected):
        release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    assert B_NUMBER in twilio.only_account().numbers


def test_a_sid_the_account_does_not_own_is_not_found(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    enabled(uows, twilio)
    with pytest.raises(errors.NotFound, match="owns no number"):
        release_orphan(uows, twilio, TENANT, "PN" + "0" * 32, actor=ALICE)


def test_the_price_the_release_records_is_the_orphans(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    enabled(uows, twilio)
    sid = _by_hand(twilio)
    _orphans(uows, twilio)
    release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    with uows.of(TENANT) as uow:
        entry = uow.ledger.find(sid, NUMBER_RELEASED)
    assert entry is not None
    assert MonthlyPrice(entry.monthly_price or "", entry.price_unit or "") == MonthlyPrice(
        "1.15", "USD"
    )


def test_a_listing_read_before_a_release_does_not_bring_the_number_back(
    uows: UnitsOfWork, twilio: FakeMessagingGateway
) -> None:
    """Reconciliation read the account's list, then the number was released, then the list
    is written: the released number is neither owned nor an orphan again."""
    enabled(uows, twilio)
    sid = _by_hand(twilio)
    assert _orphans(uows, twilio) == [BY_HAND]
    stale = twilio.only_account().numbers[BY_HAND]
    release_orphan(uows, twilio, TENANT, sid, actor=ALICE)
    twilio.only_account().numbers[BY_HAND] = stale  # what the list said before the release
    assert _orphans(uows, twilio) == []
    with uows.of(TENANT) as uow:
        assert uow.orphans.owned_count() == 0
