"""Request context shared by every request: request id, structured access log, body limit."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clienteling_setup.metrics import HTTP_REQUESTS

access_log = logging.getLogger("clienteling_setup.access")


async def send_error(
    scope: Scope, send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    state: dict[str, Any] = scope.setdefault("state", {})
    rid = str(state.get("request_id") or uuid.uuid4().hex)
    body = json.dumps({"request_id": rid, "message": message}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode()),
    ]
    for key, value in (headers or {}).items():
        raw.append((key.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass


class RequestContextMiddleware:
    """Assigns the request id, caps the body size, and logs one line per request."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, routes: RouteTemplates | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.routes = routes or RouteTemplates(())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        incoming = headers.get("x-request-id", "")
        rid = incoming if 8 <= len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = rid
        started = time.perf_counter()
        status_holder = {"status": 0}
        limit = self.max_body_bytes
        if not scope["path"].startswith("/storage/"):
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                await send_error(scope, send, 413, self._too_large(limit))
                self._log(scope, 413, started)
                return
        else:
            limit = 6 * 1024 * 1024  # uploads: the storage route enforces its own 5 MB cap

        received = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    too_large = True
                    raise BodyTooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            if too_large:
                # A body without Content-Length (chunked) went over the limit while the app
                # read it, and the app turned the failed read into an answer of its own
                # (FastAPI's 400 "error parsing the body"): answer 413 instead, once.
                if message["type"] == "http.response.start" and not status_holder["status"]:
                    await send_error(scope, send, 413, self._too_large(limit))
                    status_holder["status"] = 413
                return
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_id)
        except BodyTooLarge:
            if not status_holder["status"]:
                await send_error(scope, send, 413, self._too_large(limit))
                status_holder["status"] = 413
        finally:
            self._log(scope, status_holder["status"] or 500, started)

    @staticmethod
    def _too_large(limit: int) -> str:
        return f"The request body is larger than {limit} bytes. Send a smaller body."

    def _log(self, scope: Scope, status: int, started: float) -> None:
        state = scope.get("state", {})
        route = scope.get("route")
        HTTP_REQUESTS.labels(scope.get("method", ""), self.routes.of(scope), str(status)).observe(
            time.perf_counter() - started
        )
        access_log.info(
            "request",
            extra={
                "request_id": state.get("request_id"),
                "tenant": state.get("tenant"),
                "method": scope.get("method"),
                "route": getattr(route, "path", scope.get("path")),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )


class RouteTemplates:
    """Names the route of a request answered before routing (authentication, body limit) from
    the API's path templates; "unmatched" for a path no template has, so that made-up paths
    never become label values."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._compiled = [(compile_path(t)[0], t) for t in templates]

    def of(self, scope: Scope) -> str:
        path = getattr(scope.get("route"), "path", None)
        if isinstance(path, str):
            return path  # routed: the route the router matched
        requested = scope.get("path", "")
        return next((t for regex, t in self._compiled if regex.match(requested)), "unmatched")
