"""Engine and sessions. Use cases open units of work (`unit_of_work.py`); `transaction` is the
bare form, for the leases that must commit on their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

#: What the driver or the pool raises when the database cannot be reached, dropped the
#: connection mid-request, or cannot serve now (SQLite's file missing or locked too long,
#: PostgreSQL refusing connections, a pool with no connection free): the request may succeed
#: when sent again, so the API answers 503 with Retry-After rather than 500.
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
)

#: Seconds to wait for a PostgreSQL connection: a database host that does not answer (a
#: network cut with no reset) fails the request in bounded time instead of hanging it.
CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str) -> Engine:
    # Pre-ping: a pooled connection the database or the network dropped (a restart, a
    # failover) is replaced on checkout, so the first request after an outage succeeds.
    kwargs: dict[str, Any] = {"future": True, "pool_pre_ping": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(
            pool_size=10,
            max_overflow=20,
            connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
        )
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets readers run beside the writer. The explicit BEGIN IMMEDIATE below gives
            # SQLite real, serialised write transactions: a deferred one that reads and then
            # writes fails with SQLITE_BUSY instead of waiting when another writer got there.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commits when the block ends normally, rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def ping(engine: Engine) -> None:
    """One round trip to the database; raises when it cannot be reached."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
