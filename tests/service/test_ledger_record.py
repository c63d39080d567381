"""The ledger records each purchase and release once: a second record of the same action (a
retry, a resumed workflow) and concurrent records of it (two processes finishing one release)
leave one entry, with the first writer's actor and price."""

from __future__ import annotations

import threading

from clienteling_setup.auth.actor import Actor
from clienteling_setup.ledger.costs import record_number_bought, record_number_released
from clienteling_setup.ledger.models import NUMBER_BOUGHT, NUMBER_RELEASED, LedgerEntry
from clienteling_setup.providers.messaging import MonthlyPrice
from tests.conftest import Service
from tests.support import Api

SID = "PN" + "1" * 32
ACCOUNT = "AC" + "a" * 32


def _entries(service: Service, tenant: str = "acme") -> list[LedgerEntry]:
    with service.runtime.uows.of(tenant) as uow:
        return uow.ledger.page(after=None, limit=100)


def _buy(service: Service, actor: Actor, price: MonthlyPrice | None) -> LedgerEntry:
    with service.runtime.uows.of("acme") as uow:
        return record_number_bought(
            uow,
            actor,
            account_sid=ACCOUNT,
            number_sid=SID,
            phone_number="+14155550123",
            store_id="s1",
            price=price,
            reason="onboarding",
        )


def test_a_purchase_recorded_twice_is_one_entry(api: Api, service: Service) -> None:
    first = _buy(service, Actor("alice", "req-1"), MonthlyPrice("1.15", "USD"))
    again = _buy(service, Actor("bob", "req-2"), MonthlyPrice("9.99", "EUR"))

    assert again.entry_id == first.entry_id
    (entry,) = _entries(service)
    assert (entry.sid, entry.action, entry.actor, entry.request_id) == (
        SID,
        NUMBER_BOUGHT,
        "alice",
        "req-1",
    )
    assert (entry.monthly_price, entry.price_unit, entry.store_id) == ("1.15", "USD", "s1")
    assert _entries(service, "other") == []


def test_a_release_costs_what_the_purchase_cost(api: Api, service: Service) -> None:
    _buy(service, Actor("alice", "req-1"), MonthlyPrice("1.15", "USD"))
    with service.runtime.uows.of("acme") as uow:
        record_number_released(
            uow,
            Actor("carol", "req-3"),
            account_sid=ACCOUNT,
            number_sid=SID,
            phone_number="+14155550123",
            store_id="s1",
            reason="offboarding",
        )

    bought, released = _entries(service)
    assert (bought.action, released.action) == (NUMBER_BOUGHT, NUMBER_RELEASED)
    assert (released.actor, released.monthly_price, released.price_unit) == ("carol", "1.15", "USD")


def test_concurrent_records_of_one_release_leave_one_entry(api: Api, service: Service) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def release(i: int) -> None:
        try:
            with service.runtime.uows.of("acme") as uow:
                barrier.wait(timeout=10)
                record_number_released(
                    uow,
                    Actor(f"worker-{i}"),
                    account_sid=ACCOUNT,
                    number_sid=SID,
                    phone_number="+14155550123",
                    store_id=None,
                    price=MonthlyPrice("1.00", "USD"),
                    reason="orphan",
                )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=release, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    (entry,) = _entries(service)
    assert entry.action == NUMBER_RELEASED
    assert entry.actor.startswith("worker-")
