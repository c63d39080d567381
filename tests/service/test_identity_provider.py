"""Tokens checked against an identity provider's JWKS served over real HTTP by the test: a
stalled or unreachable provider answers 503 with Retry-After and never holds up /healthz; an
unknown kid refreshes the keys at a bounded rate; keys rotate."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from clienteling_setup.app import create_app
from clienteling_setup.bootstrap import build_runtime
from clienteling_setup.config import JwtSettings
from tests.conftest import make_settings
from tests.support import ThreadedServer, assert_error, free_port
from twilio_emulator import EmulatorServer

ISSUER = AUDIENCE = "clienteling-setup"


@dataclass
class IdentityProvider:
    """A JWKS endpoint on loopback whose keys and behaviour the test changes."""

    keys: dict[str, rsa.RSAPrivateKey] = field(default_factory=dict)
    stall: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    hits: int = 0
    server: ThreadingHTTPServer | None = None

    def add_key(self, kid: str) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def document(self) -> bytes:
        keys = []
        for kid, private in self.keys.items():
            jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(
                private.public_key(), as_dict=True
            )
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return json.dumps({"keys": keys}).encode()

    def token(self, kid: str, signer: str | None = None) -> str:
        claims = {"sub": "u", "tenants": ["acme"], "iss": ISSUER, "aud": AUDIENCE}
        claims["exp"] = int(time.time()) + 600  # type: ignore[assignment]
        private = self.keys[signer or kid]
        return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid})

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"


@pytest.fixture
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    provider.add_key("key-a")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            provider.hits += 1
            if provider.stall.is_set():
                provider.release.wait(30)
                return
            body = provider.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    provider.server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    provider.release.set()
    server.shutdown()
    server.server_close()


def _serve(
    tmp_path: Path, database_url: str, emulator: EmulatorServer, jwks_url: str, **jwt_settings: Any
) -> tuple[ThreadedServer, Any]:
    settings = make_settings(tmp_path, database_url, emulator)
    settings.jwt = JwtSettings(
        algorithm="RS256", jwks_url=jwks_url, issuer=ISSUER, audience=AUDIENCE, **jwt_settings
    )
    port = free_port()
    runtime = build_runtime(
        settings, public_base_url=f"http://127.0.0.1:{port}", apply_migrations=True
    )
    return ThreadedServer(create_app(runtime), port).start(), runtime


@pytest.fixture
def serve(tmp_path: Path, database_url: str, emulator: EmulatorServer) -> Iterator[Any]:
    started: list[tuple[ThreadedServer, Any, httpx.Client]] = []

    def start(jwks_url: str, **jwt_settings: Any) -> httpx.Client:
        server, runtime = _serve(tmp_path, database_url, emulator, jwks_url, **jwt_settings)
        client = httpx.Client(base_url=server.base_url, timeout=30)
        started.append((server, runtime, client))
        return client

    yield start
    for server, runtime, client in started:
        client.close()
        server.stop()
        runtime.close()


def _get_config(client: httpx.Client, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Tenant": "acme"}
    return client.get("/clienteling/stores", headers=headers)


def test_stalled_identity_provider_answers_503_and_health_does_not_wait(
    idp: IdentityProvider, serve: Any
) -> None:
    client = serve(idp.url, jwks_timeout_seconds=4.0)
    token = idp.token("key-a")
    idp.stall.set()
    finished: list[float] = []

    def authenticated() -> httpx.Response:
        with httpx.Client(base_url=str(client.base_url), timeout=30) as own:
            response = _get_config(own, token)
        finished.append(time.monotonic())
        return response

    with ThreadPoolExecutor(3) as pool:
        waiting = [pool.submit(authenticated) for _ in range(3)]
        deadline = time.monotonic() + 10
        while idp.hits == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the requests now wait for the stalled provider
        healthz: list[float] = []
        for _ in range(3):
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            healthz.append(time.monotonic() - started)
        # On a machine shared with other test runs one call can be slow for reasons of its
        # own; one that waited for the provider would take its whole 4 s timeout.
        assert min(healthz) < 1.0, f"/healthz took {healthz} s while requests waited"
        assert client.get("/readyz").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert not finished, "an authenticated request finished before the provider timed out"
        responses = [future.result() for future in waiting]
    for response in responses:
        assert_error(response, 503, "identity provider", "Try again later")
        assert int(response.headers["Retry-After"]) >= 1
    assert idp.hits == 1, "the waiting requests share one fetch"
    # Within the refresh interval a new request does not wait for the provider again.
    started = time.monotonic()
    assert_error(_get_config(client, token), 503, "identity provider")
    assert time.monotonic() - started < 4.0
    assert idp.hits == 1


def test_unreachable_identity_provider_answers_503(serve: Any, idp: IdentityProvider) -> None:
    closed = f"http://127.0.0.1:{free_port()}/jwks.json"
    client = serve(closed)
    response = _get_config(client, idp.token("key-a"))
    assert_error(response, 503, "identity provider")
    assert int(response.headers["Retry-After"]) >= 1
    assert client.get("/healthz").status_code == 200


def test_unknown_kid_refreshes_the_keys_at_most_once_per_interval(
    idp: IdentityProvider, serve: Any
) -> None:
    client = serve(idp.url, jwks_refresh_interval_seconds=1.0)
    assert _get_config(client, idp.token("key-a")).status_code == 200
    assert idp.hits == 1
    forged = idp.token("made-up", signer="key-a")
    time.sleep(1.1)
    for _ in range(5):
        assert_error(_get_config(client, forged), 403, "made-up", "Get a new token")
    assert idp.hits == 2, "five unknown kids in one interval caused one refresh"
    time.sleep(1.1)
    assert_error(_get_config(client, forged), 403, "made-up")
    assert idp.hits == 3
    # The known key kept working throughout, with no fetch of its own.
    assert _get_config(client, idp.token("key-a")).status_code == 200
    assert idp.hits == 3


def test_keys_rotate(idp: IdentityProvider, serve: Any) -> None:
    client = serve(idp.url, jwks_refresh_interval_seconds=0.5)
    old = idp.token("key-a")
    assert _get_config(client, old).status_code == 200
    idp.add_key("key-b")
    del idp.keys["key-a"]
    new = idp.token("key-b")
    time.sleep(0.6)
    assert _get_config(client, new).status_code == 200, "the new key was fetched on first use"
    assert_error(_get_config(client, old), 403, "key-a")


def test_last_good_keys_are_served_while_a_refresh_stalls(
    idp: IdentityProvider, serve: Any
) -> None:
    client = serve(
        idp.url,
        jwks_cache_seconds=0.5,
        jwks_refresh_interval_seconds=0.3,
        jwks_timeout_seconds=5.0,
    )
    token = idp.token("key-a")
    assert _get_config(client, token).status_code == 200
    idp.stall.set()
    time.sleep(0.6)  # the keys are past their lifetime: the next request starts a refresh
    for _ in range(3):
        started = time.monotonic()
        assert _get_config(client, token).status_code == 200
        # A request that waited would get the fetch's 503 after its 5 s timeout.
        assert time.monotonic() - started < 4.0, "a request waited for the stalled refresh"
    deadline = time.monotonic() + 5
    while idp.hits < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # the refresh thread reaches the provider on its own schedule
    assert idp.hits == 2, "one refresh started, and it is still under way"
    assert _get_config(client, token).status_code == 200
    assert idp.hits == 2
