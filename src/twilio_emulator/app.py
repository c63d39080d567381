"""The emulator as an ASGI application.

``{base}/{host}{path}`` answers Twilio's ``https://{host}.twilio.com{path}`` for host ``api``,
``messaging``, ``numbers``, ``pricing`` and ``trusthub``; ``{base}/_emulator/...`` is the
test/admin API (see `admin.py`). Every Twilio request goes through, in order: added latency, fault
rules, HTTP basic authentication (401 / 20003), routing (404 / 20404, 405 / 20004), the handler
under the state lock, and the request log.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import Receive, Scope, Send

from . import (  # noqa: F401
    admin,
    api_a2p,
    api_accounts,
    api_compliance,
    api_messaging,
    api_numbers,
    api_pricing,
)
from .errors import DEFAULT_CODES, DEFAULT_MESSAGES, TwilioError, authenticate, error_body
from .faults import Fault
from .routing import HOSTS, Ctx, resolve
from .state import EmulatorState, LoggedRequest

DEFAULT_TIMEOUT_HOLD = 30.0


class ConnectionDropped(ConnectionError):
    """Raised where the emulator cannot close a real socket (in-process ASGI transports)."""


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def respond(
    send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    payload = b"" if status == 204 or body is None else json.dumps(body).encode()
    raw = [(b"content-type", b"application/json; charset=utf-8")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    raw.append((b"content-length", str(len(payload)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


async def drop(send: Send) -> None:
    """Close the connection without answering (uvicorn: close the transport under the cycle)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("connection dropped by the Twilio emulator's fault injection")
    transport.close()
    await asyncio.sleep(0.01)  # let the server see the connection is gone


async def hold(receive: Receive, seconds: float) -> None:
    """Wait `seconds`, or less if the client gives up first."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_disconnect(), seconds)
    except TimeoutError:
        pass


def _basic_auth(scope: Scope) -> tuple[str, str] | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                return None
            try:
                user, _, password = base64.b64decode(encoded).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return user, password
    return None


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            text: str = value.decode("latin-1")
            return text.split(";")[0].strip().lower()
    return ""


def _fault_answer(fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
    status = fault.status or 500
    code = fault.code or DEFAULT_CODES.get(status, 20500)
    message = fault.message or DEFAULT_MESSAGES.get(status, "Error")
    headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
    return status, error_body(status, code, message), headers


class EmulatorApp:
    def __init__(self, state: EmulatorState, *, admin: bool = True) -> None:
        self.state = state
        self.admin = admin  # False: no /_emulator API (it shows every account's token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].replace("lifespan.", "")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if self.admin and (path == "/_emulator" or path.startswith("/_emulator/")):
            body = await read_body(receive)
            status, payload = await admin.handle(self.state, scope["method"], path, scope, body)
            await respond(send, status, payload)
            return
        await self._twilio(scope, receive, send)

    async def _twilio(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        method: str = scope["method"].upper()
        full_path: str = scope["path"]
        host, _, rest = full_path.lstrip("/").partition("/")
        twilio_path = "/" + rest
        raw = await read_body(receive)
        query = dict(parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True))
        params = dict(query)
        body_json: Any = None
        if raw and _content_type(scope) == "application/json":
            try:
                body_json = json.loads(raw)
            except ValueError:
                body_json = None
        lists: dict[str, list[str]] = {}
        if raw and body_json is None and _content_type(scope) != "application/json":
            pairs = parse_qsl(raw.decode(), keep_blank_values=True)
            params.update(pairs)
            for name, value in pairs:
                lists.setdefault(name, []).append(value)
        logged: dict[str, Any] = body_json if isinstance(body_json, dict) else params
        account_sid: str | None = None

        def log(status: int, fault: Fault | None = None) -> None:
            state.log_request(
                LoggedRequest(
                    method,
                    host,
                    twilio_path,
                    account_sid,
                    dict(logged),
                    status,
                    fault.kind if fault else None,
                )
            )

        if state.latency > 0:
            await asyncio.sleep(state.latency)
        fault = state.faults.take(method, full_path)
        if fault is not None and fault.kind == "latency":
            await asyncio.sleep(fault.delay or 0)
            fault = None
        if fault is not None and fault.kind in ("error", "drop", "timeout"):
            if fault.delay and fault.kind != "timeout":
                await asyncio.sleep(fault.delay)
            if fault.kind == "error":
                answer = _fault_answer(fault)
                log(answer[0], fault)
                await respond(send, *answer)
                return
            if fault.kind == "timeout":
                log(0, fault)
                await hold(
                    receive, fault.delay if fault.delay is not None else DEFAULT_TIMEOUT_HOLD
                )
            else:
                log(0, fault)
            await drop(send)
            return

        headers: dict[str, str] = {}
        try:
            if host not in HOSTS:
                raise TwilioError(404, 20404, f"The requested resource {full_path} was not found")
            credentials = _basic_auth(scope)
            account = state.authenticate(*credentials) if credentials else None
            if account is None:
                raise authenticate()
            account_sid = account.sid
            route, groups = resolve(method, host, twilio_path)
            ctx = Ctx(
                state, account, host, method, twilio_path, params, query, body_json, groups, lists
            )
            with state.lock:
                status, payload = route.handler(ctx)
        except TwilioError as exc:
            status, payload, headers = exc.status, exc.body(), exc.headers

        if fault is not None and fault.kind == "after_apply" and status < 400:
            if fault.delay:
                await hold(receive, fault.delay)
            if not fault.status:
                log(0, fault)
                await drop(send)
                return
            status, payload, headers = _fault_answer(fault)
            log(status, fault)
            await respond(send, status, payload, headers)
            return
        log(status)
        await respond(send, status, payload, headers)


def create_emulator_app(state: EmulatorState | None = None, *, admin: bool = True) -> EmulatorApp:
    """The emulator's ASGI application over `state` (a fresh default state if none); without
    `admin`, ``/_emulator/...`` answers 404 like any unknown path."""
    return EmulatorApp(state or EmulatorState(), admin=admin)
