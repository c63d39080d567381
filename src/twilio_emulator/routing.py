"""Route table, request context and Twilio's paging envelopes.

Handlers are plain functions ``(ctx) -> (status, body)``, registered with `route` under the host
they belong to (``api``, ``messaging``, ``numbers``, ``trusthub``) and a path regex whose named
groups carry the path parameters (named as in Twilio's OpenAPI templates). They run under the
state lock and raise `TwilioError` for Twilio's error answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from .errors import TwilioError, invalid_param, missing_param, not_found
from .models import Account

if TYPE_CHECKING:
    from .state import EmulatorState

HOSTS = ("api", "messaging", "numbers", "trusthub")
SID = r"[0-9a-fA-F]{32}"


@dataclass
class Ctx:
    state: EmulatorState
    account: Account  # the authenticated account
    host: str
    method: str
    path: str
    params: dict[str, str]  # query string (GET) or form fields (POST)
    query: dict[str, str]
    json: Any = None
    groups: dict[str, str] = field(default_factory=dict)

    def target_account(self) -> Account:
        """The account a 2010 request acts on: itself, or a subaccount of the authenticated one.

        Only the 2010 API lets main-account credentials act on a subaccount; any other account
        in the path is refused with 20003 (an unknown one is 20404), as Twilio does.
        """
        sid = self.groups["AccountSid"]
        target = self.state.accounts.get(sid)
        if target is None:
            raise not_found(self.path)
        if not (target.sid == self.account.sid or target.owner_account_sid == self.account.sid):
            raise TwilioError(401, 20003, "Authenticate")
        if target.status == "closed":
            raise TwilioError(401, 20003, "Authenticate")
        return target

    def flag(self, name: str) -> bool | None:
        value = self.params.get(name)
        if value is None or value == "":
            return None
        lowered = value.lower()
        if lowered not in ("true", "false"):
            raise invalid_param(f"{name} must be true or false, not {value!r}")
        return lowered == "true"

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise missing_param(name)
        return value


Handler = Callable[[Ctx], tuple[int, Any]]


@dataclass(frozen=True)
class Route:
    method: str
    host: str
    pattern: re.Pattern[str]
    handler: Handler


ROUTES: list[Route] = []


def route(method: str, host: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, host, re.compile(pattern + r"\Z"), handler))
        return handler

    return register


def resolve(method: str, host: str, path: str) -> tuple[Route, dict[str, str]]:
    """The route for a request; 404 (20404) or 405 (20004) answers as Twilio gives them."""
    allowed = False
    for candidate in ROUTES:
        if candidate.host != host:
            continue
        match = candidate.pattern.match(path)
        if match is None:
            continue
        if candidate.method == method:
            return candidate, match.groupdict()
        allowed = True
    if allowed:
        raise TwilioError(405, 20004, "Method not allowed")
    raise not_found(path)


def _page_args(ctx: Ctx, default_size: int = 50) -> tuple[int, int]:
    try:
        size = int(ctx.params.get("PageSize") or default_size)
        page = int(ctx.params.get("Page") or 0)
    except ValueError as exc:
        raise invalid_param("PageSize and Page must be integers") from exc
    if not 1 <= size <= 1000 or page < 0:
        raise invalid_param("PageSize must be between 1 and 1000 and Page at least 0")
    return size, page


def _filters(ctx: Ctx) -> dict[str, str]:
    return {k: v for k, v in ctx.query.items() if k not in ("PageSize", "Page", "PageToken")}


def page_2010(ctx: Ctx, key: str, items: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The 2010 API's list envelope: ``{key: [...], page, page_size, uri, next_page_uri, ...}``."""
    size, page = _page_args(ctx)
    start = page * size
    chunk = items[start : start + size]
    filters = _filters(ctx)

    def uri(number: int) -> str:
        return f"{ctx.path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

    return 200, {
        key: chunk,
        "end": start + len(chunk) - 1 if chunk else start,
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(items) else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }


def page_v(ctx: Ctx, key: str, items: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    """The v1/v2 APIs' envelope: ``{key: [...], meta: {page, page_size, ..._url, key, url}}``."""
    size, page = _page_args(ctx)
    start = page * size
    chunk = items[start : start + size]
    filters = _filters(ctx)
    base = f"https://{ctx.host}.twilio.com{ctx.path}"

    def url(number: int) -> str:
        return f"{base}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

    return 200, {
        key: chunk,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": url(0),
            "previous_page_url": url(page - 1) if page > 0 else None,
            "url": url(page),
            "next_page_url": url(page + 1) if start + size < len(items) else None,
            "key": key,
        },
    }
