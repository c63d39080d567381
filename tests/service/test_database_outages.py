"""Database outages: while the database cannot be reached, or drops the connection in the
middle of a request, the API answers 503 with Retry-After and a message the caller can act on
(never a bare 500), `/readyz` says the database is unavailable without the driver's text, and
once the database is back the same requests succeed, an interrupted onboarding included.

PostgreSQL is reached through a TCP proxy the test cuts (`tests.tcp_proxy`): new connections
are refused and open ones are dropped, as when the database host or the network goes down.
SQLite has no network to cut, and a connection already open keeps working on its file even
when the file is moved or deleted (the kernel keeps it open), so the honest SQLite outage is a
database file that cannot be opened: its folder missing, as on an unmounted volume.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from clienteling_setup.app import create_app
from clienteling_setup.bootstrap import build_runtime
from clienteling_setup.db.migrate import upgrade
from tests.conftest import Service, make_settings
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, ThreadedServer, assert_error, free_port, postgres_database
from tests.tcp_proxy import TcpProxy
from twilio_emulator import EmulatorServer

PURCHASE = r"/IncomingPhoneNumbers\.json$"
#: The services' lease heartbeat timeout here (10 s by default), so that a retry sent to
#: another server, which must wait for the lease to go stale, is quick.
LEASE_TIMEOUT = 3.0


def start_service(url: str, emulator: EmulatorServer, data_dir: Path, *, migrate: bool) -> Service:
    port = free_port()
    settings = make_settings(data_dir, url, emulator)
    runtime = build_runtime(
        settings.model_copy(update={"lease_heartbeat_timeout_seconds": LEASE_TIMEOUT}),
        public_base_url=f"http://127.0.0.1:{port}",
        apply_migrations=migrate,
    )
    return Service(runtime, ThreadedServer(create_app(runtime), port).start())


def client_of(service: Service) -> Iterator[Api]:
    with httpx.Client(base_url=service.base_url, timeout=30) as client:
        yield Api(service.base_url, service.token("acme"), "acme", client)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    proxy = TcpProxy("127.0.0.1", 5432).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied(
    postgres_url: str, proxy: TcpProxy, emulator: EmulatorServer, tmp_path: Path
) -> Iterator[Service]:
    """A service whose PostgreSQL connections all go through `proxy`."""
    emulator.state.reset()
    service = start_service(proxy.url_for(postgres_url), emulator, tmp_path, migrate=True)
    yield service
    service.server.stop()
    service.runtime.close()
    emulator.state.clear_faults()


@pytest.fixture
def api(proxied: Service) -> Iterator[Api]:
    yield from client_of(proxied)


def assert_database_unavailable(response: httpx.Response) -> None:
    assert_error(response, 503, "database is unavailable", "send the same request again")
    assert int(response.headers["Retry-After"]) > 0


def assert_no_internals(text: str, *internals: str) -> None:
    for internal in ("psycopg", "sqlite3", "OperationalError", "5432", *internals):
        assert internal not in text, text


def routes(api: Api) -> list[httpx.Response]:
    """A read, a create and an update, each of which needs the database."""
    return [
        api.get("/clienteling/stores"),
        api.get("/clienteling/onboarding-status"),
        api.put("/clienteling/stores/us-nyc", json={"name": "Dodici", "country_code": "US"}),
        api.post("/clienteling/configuration", json={"ecom_link": "https://www.dodici.example"}),
    ]


def wait_until_served(api: Api, seconds: float = 15.0) -> float:
    """Seconds until `GET /clienteling/stores` answers 200 again."""
    started = time.monotonic()
    while api.get("/clienteling/stores").status_code != 200:
        assert time.monotonic() - started < seconds, "the service did not recover"
        time.sleep(0.1)
    return time.monotonic() - started


def test_postgres_cut_answers_503_with_retry_after_then_recovers(api: Api, proxy: TcpProxy) -> None:
    put_store(api, "us-nyc")  # the pool now holds connections that the cut will break
    with proxy.outage():
        for response in routes(api):
            assert_database_unavailable(response)
            assert_no_internals(response.text, str(proxy.port))
        ready = api.client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "database": "unavailable"}
        assert_no_internals(ready.text, str(proxy.port), "127.0.0.1")
        assert api.client.get("/healthz").status_code == 200  # the process itself is fine
    # Pre-ping replaces the broken pooled connections: the first request after is served.
    assert api.get("/clienteling/stores").status_code == 200
    assert api.client.get("/readyz").json() == {"status": "ok", "database": "ok"}


def test_postgres_connection_lost_during_a_query_is_503(
    api: Api, proxy: TcpProxy, postgres_url: str
) -> None:
    """The request's query is running (waiting on a lock the test holds) when the network
    drops: the driver fails mid-request, the answer is still a 503 to retry."""
    put_store(api, "us-nyc")
    answers: list[httpx.Response] = []
    locker = psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"))
    try:
        locker.execute("LOCK TABLE stores IN ACCESS EXCLUSIVE MODE")
        reader = threading.Thread(target=lambda: answers.append(api.get("/clienteling/stores")))
        reader.start()
        _wait_for_lock_waiter(locker)
        proxy.cut()
        reader.join(timeout=30)
    finally:
        locker.rollback()
        locker.close()
    assert_database_unavailable(answers[0])
    proxy.restore()
    assert wait_until_served(api) < 5


def _wait_for_lock_waiter(conn: psycopg.Connection[Any]) -> None:
    deadline = time.monotonic() + 10
    query = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'stores'::regclass"
    while (row := conn.execute(query).fetchone()) is None or row[0] == 0:
        assert time.monotonic() < deadline, "the request never reached the database"
        time.sleep(0.02)


@pytest.mark.parametrize("retried_on", ["the same server", "another server"])
def test_postgres_cut_between_purchase_and_record_then_same_request_succeeds(
    api: Api,
    proxy: TcpProxy,
    emulator: EmulatorServer,
    postgres_url: str,
    tmp_path: Path,
    retried_on: str,
) -> None:
    """The database goes down while Twilio is buying the number: the purchase happens, its
    record cannot be written, nor the store's lease released. Once the database is back, the
    same request finishes the onboarding within seconds with that number, one number owned:
    at once on the same server (it knows the lease it could not release), and on another
    server (another host) once the lease's heartbeat is stale."""
    config = enable(api)
    put_store(api, "us-nyc")
    number = available_number(api, "us-nyc")
    body = {"phone_number": number}
    slow = emulator.state.add_fault(method="POST", path=PURCHASE, kind="latency", delay=1.0)
    answers: list[httpx.Response] = []
    request = threading.Thread(
        target=lambda: answers.append(api.post("/clienteling/stores/us-nyc/onboard", json=body))
    )
    request.start()
    deadline = time.monotonic() + 10
    while slow.hits == 0:  # the purchase is on its way to Twilio
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proxy.cut()
    request.join(timeout=30)
    assert_database_unavailable(answers[0])
    sub = config["twilio"]["sid"]
    assert [n.phone_number for n in emulator.state.owned_numbers(sub)] == [number]

    proxy.restore()
    started = time.monotonic()
    if retried_on == "the same server":
        retry = api.post("/clienteling/stores/us-nyc/onboard", json=body)
    else:
        # Another host of the deployment: the same keys (data folder), its own connections.
        other = start_service(postgres_url, emulator, tmp_path, migrate=False)
        try:
            for other_api in client_of(other):
                retry = retry_while_busy(other_api, "/clienteling/stores/us-nyc/onboard", body)
        finally:
            other.server.stop()
            other.runtime.close()
    assert retry.status_code == 201, retry.text
    assert time.monotonic() - started < LEASE_TIMEOUT + 5
    assert retry.json()["phone_number"] == number
    assert [n.phone_number for n in emulator.state.owned_numbers(sub)] == [number]
    purchases = [r for r in emulator.state.requests if r.method == "POST" and "Incoming" in r.path]
    assert len(purchases) == 1


def retry_while_busy(api: Api, path: str, body: dict[str, Any]) -> httpx.Response:
    """What a client does with 409 'being onboarded by another request': send it again."""
    deadline = time.monotonic() + 30
    while True:
        response = api.post(path, json=body)
        busy = response.status_code == 409 and "by another request" in response.text
        if not busy or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_sqlite_file_that_cannot_be_opened_is_503_until_it_can(
    emulator: EmulatorServer, tmp_path: Path
) -> None:
    """The database's folder is missing (an unmounted volume): every connection the service
    opens fails; once the folder is back, the same service serves again without a restart."""
    folder = tmp_path / "volume"
    folder.mkdir()
    url = f"sqlite:///{folder / 'clienteling.db'}"
    upgrade(url)
    folder.rename(tmp_path / "unmounted")
    service = start_service(url, emulator, tmp_path / "data", migrate=False)
    try:
        for api in client_of(service):
            for response in routes(api):
                assert_database_unavailable(response)
                assert_no_internals(response.text, str(folder))
            ready = api.client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json() == {"status": "unavailable", "database": "unavailable"}
            assert_no_internals(ready.text, str(folder))
            (tmp_path / "unmounted").rename(folder)
            assert wait_until_served(api) < 5
            assert api.client.get("/readyz").status_code == 200
    finally:
        service.server.stop()
        service.runtime.close()
