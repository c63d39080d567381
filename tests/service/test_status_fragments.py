"""Issues #16 (item 5) and #18: each store's entry of the status document is stored serialised
and kept current by every write path that changes it (store PUT and DELETE, import, SMS
onboarding and a released claim, WhatsApp onboarding, sender callbacks, reconciliation). A
write to one store changes exactly that store's stored entry, and the document assembled from
the stored entries is byte for byte the document built from the rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import orjson
import pytest
from sqlalchemy import event, select

from clienteling_setup.status.fragments import repair
from clienteling_setup.status.models import StoreFragment
from clienteling_setup.status.repository import StatusRepository
from clienteling_setup.status.view import build_document, build_status
from clienteling_setup.stores.schemas import StoreImportRow
from clienteling_setup.stores.service import IMPORT_CHUNK, import_stores
from clienteling_setup.sync import sync_all
from tests.conftest import Service
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api
from twilio_emulator import EmulatorServer

WABA = "1234567890"


def stored(service: Service, tenant: str = "acme") -> dict[str, bytes]:
    """The stored entries of the tenant, by store."""
    with service.runtime.sessions() as session:
        rows = session.execute(
            select(StoreFragment.store_id, StoreFragment.fragment).where(
                StoreFragment.tenant_id == tenant
            )
        )
        return {store_id: bytes(fragment) for store_id, fragment in rows}


def changed_by(service: Service, write: Callable[[], object]) -> set[str]:
    """The stores whose stored entry `write` changed, added or removed."""
    before = stored(service)
    write()
    after = stored(service)
    return {s for s in before.keys() | after.keys() if before.get(s) != after.get(s)}


def assert_current(api: Api, service: Service) -> None:
    """Every store has its entry, the document assembled from them is the one built from the
    rows, byte for byte, and it is what the API answers."""
    with service.runtime.uows.of(api.tenant) as uow:
        status = StatusRepository(uow.session, api.tenant)
        assert len(status.fragments()) == status.store_count()
        assembled = build_document(status, uow.requirements)
        assert assembled == orjson.dumps(build_status(status, uow.requirements))
    # The API adds the newest bulk job's progress and how fresh the Twilio state is, read on
    # every call (issue 16).
    answered = orjson.loads(api.get("/clienteling/onboarding-status").content)
    assert answered.pop("onboarding_job") is None
    assert set(answered.pop("reconciliation")) == {"last_succeeded_at", "lag_seconds"}
    assert answered == orjson.loads(assembled)


def onboard_sms(api: Api, store_id: str) -> str:
    number = available_number(api, store_id)
    response = api.post(f"/clienteling/stores/{store_id}/onboard", json={"phone_number": number})
    assert response.status_code == 201, response.text
    return number


def onboard_whatsapp(api: Api, store_id: str) -> None:
    response = api.post(
        f"/clienteling/stores/{store_id}/whatsapp/onboard",
        json={"waba_id": WABA, "profile_name": "Dodici"},
    )
    assert response.status_code == 202, response.text


@pytest.fixture
def three_stores(api: Api, service: Service) -> None:
    enable(api)
    for store_id in ("a", "b", "c"):
        put_store(api, store_id, name=f"Store {store_id}")
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_store_put_and_delete_change_exactly_that_store(api: Api, service: Service) -> None:
    assert changed_by(service, lambda: put_store(api, "b", name="Renamed")) == {"b"}
    assert b'"name":"Renamed"' in stored(service)["b"]
    assert changed_by(service, lambda: put_store(api, "d", name="New")) == {"d"}
    assert changed_by(service, lambda: put_store(api, "c", name="Store c")) == set()  # same
    deleted = changed_by(service, lambda: api.delete("/clienteling/stores/a"))
    assert deleted == {"a"}
    assert "a" not in stored(service)
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_import_changes_exactly_the_stores_it_writes(api: Api, service: Service) -> None:
    rows = [
        StoreImportRow(id="b", name="Imported b", country_code="US"),
        StoreImportRow(id="e", name="Imported e", country_code="CA"),
    ]
    changed = changed_by(service, lambda: import_stores(service.runtime.uows, "acme", rows))
    assert changed == {"b", "e"}
    assert b'"name":"Imported b"' in stored(service)["b"]
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_sms_and_whatsapp_onboarding_change_exactly_that_store(api: Api, service: Service) -> None:
    number = ""

    def sms() -> None:
        nonlocal number
        number = onboard_sms(api, "b")

    assert changed_by(service, sms) == {"b"}
    entry = orjson.loads(stored(service)["b"])
    # A US store: its number is ready, its texts wait on the A2P 10DLC campaign.
    pending = {"status": "registration_pending", "pending_phone_number": None, "last_error": None}
    assert (entry["phone_number"], entry["channels"]["sms"]) == (number, pending)
    assert changed_by(service, lambda: onboard_whatsapp(api, "b")) == {"b"}
    assert orjson.loads(stored(service)["b"])["channels"]["whatsapp"]["status"] == "creating"
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_a_released_claim_leaves_the_store_as_it_was(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    number = available_number(api, "c")
    emulator.state.make_number_unavailable(number)  # Twilio refuses the purchase: 21422

    def refused() -> None:
        response = api.post("/clienteling/stores/c/onboard", json={"phone_number": number})
        assert response.status_code == 400, response.text

    assert changed_by(service, refused) == set()
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_sender_callbacks_and_reconciliation_change_exactly_that_store(
    api: Api, service: Service, emulator: EmulatorServer
) -> None:
    for store_id in ("a", "b"):
        onboard_sms(api, store_id)
        onboard_whatsapp(api, store_id)

    def callback() -> None:
        emulator.state.advance_clock(30)  # both senders go online; each sends its callback

    assert changed_by(service, callback) == {"a", "b"}
    assert orjson.loads(stored(service)["a"])["channels"]["whatsapp"]["status"] == "online"
    onboard_sms(api, "c")
    onboard_whatsapp(api, "c")
    emulator.state.drop_callbacks = True  # c goes online in Twilio, its callback is lost
    emulator.state.advance_clock(30)
    assert orjson.loads(stored(service)["c"])["channels"]["whatsapp"]["status"] == "creating"

    def reconcile() -> None:
        assert sync_all(service.runtime).failed == {}

    assert changed_by(service, reconcile) == {"c"}
    assert orjson.loads(stored(service)["c"])["channels"]["whatsapp"]["status"] == "online"
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
@pytest.mark.parametrize("damage", ["missing", "left over"])
def test_reconciliation_repairs_missing_and_left_over_entries(
    api: Api, service: Service, damage: str
) -> None:
    table = StoreFragment.__table__
    with service.runtime.sessions.begin() as session:
        # As in a database from before the stored entries, or after a write past both the
        # ORM and `db.changes` (a bug this repairs).
        if damage == "missing":
            session.execute(table.delete().where(table.c.store_id == "a"))
        else:
            row = {"store_id": "zz", "country_code": "US", "sms_onboarded": False}
            session.execute(table.insert().values(tenant_id="acme", fragment=b"{}", **row))
    # Meanwhile the document is built from the rows: still right.
    with service.runtime.uows.of(api.tenant) as uow:
        status = StatusRepository(uow.session, api.tenant)
        assembled = build_document(status, uow.requirements)
        assert assembled == orjson.dumps(build_status(status, uow.requirements))
    assert sync_all(service.runtime).failed == {}
    assert set(stored(service)) == {"a", "b", "c"}
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_an_import_of_thousands_of_stores_rebuilds_their_entries(
    api: Api, service: Service
) -> None:
    rows = [
        StoreImportRow(id=f"bulk-{i:05d}", name=f"Bulk {i}", country_code="US")
        for i in range(2_100)
    ]
    changed = changed_by(service, lambda: import_stores(service.runtime.uows, "acme", rows))
    assert changed == {row.id for row in rows}
    assert_current(api, service)


def rebuilt_from_scratch(service: Service, tenant: str = "acme") -> dict[str, object]:
    """The tenant's document after every stored entry is thrown away and rebuilt from the
    rows (as reconciliation's repair does for a database from before the stored entries)."""
    table = StoreFragment.__table__
    with service.runtime.uows.of(tenant) as uow:
        uow.session.execute(table.delete().where(table.c.tenant_id == tenant))
    with service.runtime.uows.of(tenant) as uow:
        assert repair(uow.session, tenant) > 0
    with service.runtime.uows.of(tenant) as uow:
        status = StatusRepository(uow.session, tenant)
        document: dict[str, object] = orjson.loads(build_document(status, uow.requirements))
        assert document == build_status(status, uow.requirements)
        return document


@pytest.mark.usefixtures("three_stores")
def test_an_import_writes_the_entries_a_rebuild_from_scratch_would(
    api: Api, service: Service
) -> None:
    """An import over onboarded stores (their number and sender stay in their entries) and
    thousands of new ones, in several chunks: the status right after it is the status
    rebuilt from scratch."""
    onboard_sms(api, "a")
    onboard_whatsapp(api, "a")
    number = onboard_sms(api, "b")
    rows = [
        StoreImportRow(id="a", name="Imported a", country_code="US"),
        StoreImportRow(id="b", name="Imported b", country_code="US"),
        *(
            StoreImportRow(id=f"bulk-{i:05d}", name=f"Bulk {i}", country_code=("US", "CA")[i % 2])
            for i in range(2 * IMPORT_CHUNK + 100)
        ),
    ]
    import_stores(service.runtime.uows, "acme", rows)

    after_import = api.get("/clienteling/onboarding-status").json()
    assert after_import.pop("onboarding_job") is None
    assert set(after_import.pop("reconciliation")) == {"last_succeeded_at", "lag_seconds"}
    stores = {store["id"]: store for store in after_import["stores"]}
    assert len(stores) == 3 + 2 * IMPORT_CHUNK + 100
    assert (stores["b"]["name"], stores["b"]["phone_number"]) == ("Imported b", number)
    assert stores["a"]["channels"]["whatsapp"]["status"] == "creating"
    assert after_import == rebuilt_from_scratch(service)
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_an_import_that_fails_leaves_every_entry_as_it_was(api: Api, service: Service) -> None:
    before = stored(service)

    def rows() -> Iterator[StoreImportRow]:
        yield StoreImportRow(id="b", name="Imported b", country_code="US")
        yield from (
            StoreImportRow(id=f"bulk-{i:05d}", name=f"Bulk {i}", country_code="US")
            for i in range(IMPORT_CHUNK + 200)
        )
        raise ValueError("line 1203: bad row")

    with pytest.raises(ValueError, match="line 1203"):
        import_stores(service.runtime.uows, "acme", rows())
    assert stored(service) == before
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_an_import_writes_entries_from_its_own_values_chunk_by_chunk(
    api: Api, service: Service
) -> None:
    """The import does not rebuild its stores' entries when it commits: it never reads a
    store row back, nor locks the tenant's other stores (so that a large import neither
    doubles its work nor waits on, or blocks, writers of stores it does not write)."""
    statements: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        statements.append(" ".join(sql.split()))

    rows = [
        StoreImportRow(id=f"bulk-{i:05d}", name=f"Bulk {i}", country_code="US")
        for i in range(2 * IMPORT_CHUNK + 100)
    ]
    engine = service.runtime.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        import_stores(service.runtime.uows, "acme", rows)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    # Each chunk's stores, then their entries: nothing is left for the commit.
    writes = [s.split()[2] for s in statements if s.startswith("INSERT INTO")]
    runs = [table for i, table in enumerate(writes) if i == 0 or writes[i - 1] != table]
    assert runs == ["stores", "status_store_fragments"] * 3
    # (It reads which stores have an SMS onboarding, once: their country is fixed.)
    reads_back = [s for s in statements if s.startswith("SELECT") and "stores.name" in s]
    assert reads_back == []
    assert not [s for s in statements if "FOR UPDATE" in s]
    assert_current(api, service)


@pytest.mark.usefixtures("three_stores")
def test_a_store_given_twice_in_one_import_is_stored_and_shown_as_given_last(
    api: Api, service: Service
) -> None:
    rows = [
        StoreImportRow(id="b", name="First b", country_code="US"),
        StoreImportRow(id="e", name="First e", country_code="US"),
        StoreImportRow(id="b", name="Last b", country_code="CA"),
        StoreImportRow(id="e", name="Last e", country_code="US"),
    ]
    import_stores(service.runtime.uows, "acme", rows)
    listed = {s["id"]: s for s in api.get("/clienteling/stores").json()["items"]}
    assert (listed["b"]["name"], listed["b"]["country_code"]) == ("Last b", "CA")
    assert listed["e"]["name"] == "Last e"
    assert orjson.loads(stored(service)["b"])["name"] == "Last b"
    assert_current(api, service)


def test_the_database_joins_the_entries_in_the_order_a_build_from_the_rows_shows(
    api: Api, service: Service
) -> None:
    """The `stores` array is joined by the database (one value, not a row per store), in store
    id order as the rows are read: ids that differ in case and punctuation, onboarded and not,
    with WhatsApp senders, in several countries, byte for byte what a build from the rows
    gives, and what the API answers."""
    enable(api)
    ids = ["b-2", "B-2", "a.1", "a-1", "a_1", "A1", "a1", "Z", "0x", "z.9", "a"]
    for index, store_id in enumerate(ids):
        country = ("US", "DE", "GB")[index % 3]
        put_store(
            api, store_id, name=f'Store «{store_id}» "{index}"', country_code=country, phone=None
        )
    onboard_sms(api, "a-1")
    onboard_sms(api, "z.9")
    onboard_whatsapp(api, "a-1")
    assert_current(api, service)
    with service.runtime.uows.of(api.tenant) as uow:
        status = StatusRepository(uow.session, api.tenant)
        shown = [
            store["id"]
            for store in orjson.loads(build_document(status, uow.requirements))["stores"]
        ]
        assert shown == [store_id for store_id, _, _ in status.stores()]  # by id, as stored
        assert sorted(shown) == sorted(ids)
