"""Status callbacks: signed as Twilio signs its webhooks, sent in order, recorded in the world.

Each request carries ``X-Twilio-Signature`` computed with the owning account's auth token (see
`twilio_signature`), so the ``twilio`` SDK's
``RequestValidator(auth_token).validate(url, params, signature)`` accepts it. A form POST sends
the fields as the body; a GET puts them in the query string, and the signature covers that URL.
Every attempt, answered or not, is recorded in ``world.callbacks``; with ``world.drop_callbacks``
set, none is sent and each is recorded as lost.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import httpx

from .models import Callback, PendingCallback

if TYPE_CHECKING:
    from .world import World


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The ``X-Twilio-Signature`` of a request, as Twilio computes it for its webhooks.

    Base64 of the HMAC-SHA1, keyed with the account's auth token, of the full URL followed by
    each parameter's name and value, in name order (for a GET, the parameters are in the URL and
    `params` is empty).
    """
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def send(world: World, pending: list[PendingCallback]) -> list[Callback]:
    """Send status callbacks signed like Twilio's, one after the other; record each."""
    done: list[Callback] = []
    for url, method, params, token in pending:
        if method == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(params)
            signature = twilio_signature(token, target, {})
        else:
            target = url
            signature = twilio_signature(token, url, params)
        callback = Callback(url, method, params, signature, None)
        if world.drop_callbacks:
            callback.error = "dropped: state.drop_callbacks is set"
        else:
            try:
                response = httpx.request(
                    method,
                    target,
                    data=None if method == "GET" else params,
                    headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"},
                    timeout=world.callback_timeout,
                )
                callback.status_code = response.status_code
            except httpx.HTTPError as exc:
                callback.error = f"{type(exc).__name__}: {exc}"
        with world.lock:
            world.callbacks.append(callback)
        done.append(callback)
    return done


class Outbox:
    """One worker thread sends every callback of a world, in the order they were submitted."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._queue: queue.Queue[tuple[list[PendingCallback], Future[list[Callback]]]] = (
            queue.Queue()
        )
        threading.Thread(target=self._run, name="emulator-callbacks", daemon=True).start()

    def submit(self, pending: list[PendingCallback]) -> Future[list[Callback]]:
        future: Future[list[Callback]] = Future()
        self._queue.put((pending, future))
        return future

    def _run(self) -> None:
        while True:
            pending, future = self._queue.get()
            try:
                future.set_result(send(self._world, pending))
            except Exception as exc:  # noqa: BLE001 - hand any failure to the waiting caller
                future.set_exception(exc)
