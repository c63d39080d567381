"""The status cache without a database: single flight per tenant and fingerprint."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from clienteling_setup.status.cache import StatusCache
from clienteling_setup.status.repository import StatusRepository


class _Fingerprinted(StatusRepository):
    """A tenant whose fingerprint the test sets (what `StatusRepository` reads from the
    database)."""

    def __init__(self, tenant_id: str, key: tuple[Any, ...]) -> None:
        self.tenant_id = tenant_id
        self.key = key

    def fingerprint(self) -> tuple[Any, ...]:
        return self.key


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "the readers never all arrived"
        time.sleep(0.005)


def test_readers_missing_together_share_one_build() -> None:
    cache = StatusCache()
    readers = 8
    builds: list[int] = []

    def build() -> bytes:
        builds.append(1)
        # Every reader of this round has missed before the build ends: they all overlap it.
        _wait_for(lambda: cache.stats().misses >= readers * len(builds))
        return b'{"built": %d}' % len(builds)

    def read(key: tuple[Any, ...]) -> bytes:
        return cache.get_or_build(_Fingerprinted("acme", key), build)

    with ThreadPoolExecutor(readers) as pool:
        documents = list(pool.map(lambda _: read((1,)), range(readers)))
    assert builds == [1]
    assert documents == [b'{"built": 1}'] * readers
    stats = cache.stats()
    assert (stats.misses, stats.builds, stats.shared, stats.entries) == (readers, 1, 7, 1)

    # A change (another fingerprint): one more build for all of them again.
    with ThreadPoolExecutor(readers) as pool:
        documents = list(pool.map(lambda _: read((2,)), range(readers)))
    assert builds == [1, 1]
    assert documents == [b'{"built": 2}'] * readers
    assert read((2,)) == b'{"built": 2}'
    assert cache.stats().hits == 1


def test_a_failed_build_is_not_shared() -> None:
    """The readers waiting on a build that raised build for themselves."""
    cache = StatusCache()
    started = threading.Event()
    release = threading.Event()
    calls: list[str] = []

    def failing() -> bytes:
        calls.append("leader")
        started.set()
        release.wait(10)
        raise RuntimeError("database went away")

    def leader() -> bytes:
        return cache.get_or_build(_Fingerprinted("acme", (1,)), failing)

    def follower() -> bytes:
        started.wait(10)

        def build() -> bytes:
            calls.append("follower")
            return b"{}"

        return cache.get_or_build(_Fingerprinted("acme", (1,)), build)

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(leader)
        second = pool.submit(follower)
        _wait_for(lambda: cache.stats().misses == 2)
        release.set()
        with pytest.raises(RuntimeError, match="database went away"):
            first.result()
        assert second.result() == b"{}"
    assert calls == ["leader", "follower"]


def test_tenants_do_not_share_builds() -> None:
    cache = StatusCache()
    documents = [
        cache.get_or_build(_Fingerprinted(t, (1,)), lambda t=t: t.encode())  # type: ignore[misc]
        for t in ("a", "b")
    ]
    assert documents == [b"a", b"b"]
    assert cache.stats().builds == 2
