"""Route table, request context and Twilio's paging envelopes.

Handlers are plain functions ``(ctx) -> (status, body)``, registered with `route` under the host
they belong to (``api``, ``messaging``, ``numbers``, ``pricing``, ``trusthub``) and a path regex
whose named groups carry the path parameters (named as in Twilio's OpenAPI templates). They run
under the state lock and raise `TwilioError` for Twilio's error answers. `record_routes` registers
the fetch, update and delete of one record at once. A list handler filters with `Ctx.matching` and
answers with `page_2010` or `page_v`, which render only the requested page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode

from .errors import TwilioError, invalid_param, missing_param, not_found
from .models import Account, Owned

if TYPE_CHECKING:
    from .state import EmulatorState

HOSTS = ("api", "messaging", "numbers", "pricing", "trusthub")
SID = r"[0-9a-fA-F]{32}"

T = TypeVar("T")
R = TypeVar("R", bound=Owned)
#: The record attribute a request parameter stands for, optionally with the function that turns
#: the parameter's text into the attribute's value (e.g. ``("iso_country", str.upper)``).
Field = str | tuple[str, Callable[[str], Any]]


def optional(value: str) -> str | None:
    """A form value that clears its setting when empty (Twilio's ``VoiceUrl=`` and the like)."""
    return value or None


def _field(spec: Field) -> tuple[str, Callable[[str], Any] | None]:
    return (spec, None) if isinstance(spec, str) else spec


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
    #: Every value of each form field (the SDK repeats a list parameter: ``MessageSamples=a&
    #: MessageSamples=b``), where `params` keeps the last.
    lists: dict[str, list[str]] = field(default_factory=dict)

    def values(self, name: str) -> list[str]:
        """All values sent for a list parameter (none: an empty list)."""
        return self.lists.get(name) or ([self.params[name]] if name in self.params else [])

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

    def owned(self, records: Mapping[str, R], group: str = "Sid") -> R:
        """The record whose SID is the path parameter `group`, when the account the request acts
        on owns it: on the 2010 API the account in the path (`target_account`), elsewhere the
        authenticated one. Anything else is Twilio's 20404."""
        owner = self.target_account() if "AccountSid" in self.groups else self.account
        record = records.get(self.groups[group])
        if record is None or record.account_sid != owner.sid:
            raise not_found(self.path)
        return record

    def matching(self, records: Iterable[T], **filters: Field) -> list[T]:
        """The records that pass every filter whose query parameter (the keyword) is given:
        ``FriendlyName="friendly_name"`` keeps those whose attribute equals the parameter."""
        found = list(records)
        for param, spec in filters.items():
            value = self.params.get(param)
            if not value:
                continue
            attribute, convert = _field(spec)
            wanted = convert(value) if convert else value
            found = [r for r in found if getattr(r, attribute) == wanted]
        return found

    def assign(self, record: object, **fields: Field) -> None:
        """Set the attributes of `record` from the form parameters sent (even empty), in order:
        ``SmsUrl=("sms_url", optional)`` sets ``sms_url`` to the ``SmsUrl`` parameter or None."""
        for param, spec in fields.items():
            if param in self.params:
                attribute, convert = _field(spec)
                value = self.params[param]
                setattr(record, attribute, convert(value) if convert else value)


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


def record_routes(
    host: str,
    pattern: str,
    find: Callable[[Ctx], T],
    render: Callable[[T], dict[str, Any]],
    update: Callable[[Ctx, T], None] | None = None,
    delete: Callable[[Ctx, T], None] | None = None,
) -> None:
    """The routes of one record: GET answers the record `find` gives (it raises 20404 for a
    record the caller may not see), rendered; with `update`, POST changes the record and answers
    it; with `delete`, DELETE removes it and answers 204."""

    def fetch(ctx: Ctx) -> tuple[int, Any]:
        return 200, render(find(ctx))

    route("GET", host, pattern)(fetch)
    if update is not None:

        def post(ctx: Ctx) -> tuple[int, Any]:
            record = find(ctx)
            update(ctx, record)
            return 200, render(record)

        route("POST", host, pattern)(post)
    if delete is not None:

        def delete_(ctx: Ctx) -> tuple[int, Any]:
            delete(ctx, find(ctx))
            return 204, None

        route("DELETE", host, pattern)(delete_)


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


@dataclass(frozen=True)
class Page:
    """One page of a list: its rendered items and the links to itself and its neighbours."""

    items: list[dict[str, Any]]
    number: int
    size: int
    start: int
    more: bool  # a next page exists
    base: str  # the list's URI (2010) or URL (v1/v2), to which the links add their query
    filters: dict[str, str]  # the request's query, less the paging parameters

    def link(self, number: int) -> str:
        return f"{self.base}?{urlencode({**self.filters, 'PageSize': self.size, 'Page': number})}"

    @property
    def next_link(self) -> str | None:
        return self.link(self.number + 1) if self.more else None

    @property
    def previous_link(self) -> str | None:
        return self.link(self.number - 1) if self.number > 0 else None


def page_size(ctx: Ctx) -> int:
    return _page_args(ctx)[0]


def _page_args(ctx: Ctx) -> tuple[int, int]:
    try:
        size = int(ctx.params.get("PageSize") or 50)
        number = int(ctx.params.get("Page") or 0)
    except ValueError as exc:
        raise invalid_param("PageSize and Page must be integers") from exc
    if not 1 <= size <= 1000 or number < 0:
        raise invalid_param("PageSize must be between 1 and 1000 and Page at least 0")
    return size, number


def _page(ctx: Ctx, records: Sequence[T], render: Callable[[T], dict[str, Any]], base: str) -> Page:
    size, number = _page_args(ctx)
    start = number * size
    return Page(
        items=[render(r) for r in records[start : start + size]],
        number=number,
        size=size,
        start=start,
        more=start + size < len(records),
        base=base,
        filters={k: v for k, v in ctx.query.items() if k not in ("PageSize", "Page", "PageToken")},
    )


def page_2010(
    ctx: Ctx, key: str, records: Sequence[T], render: Callable[[T], dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """The 2010 API's list envelope: ``{key: [...], page, page_size, uri, next_page_uri, ...}``."""
    page = _page(ctx, records, render, ctx.path)
    return 200, {
        key: page.items,
        "end": page.start + len(page.items) - 1 if page.items else page.start,
        "first_page_uri": page.link(0),
        "next_page_uri": page.next_link,
        "page": page.number,
        "page_size": page.size,
        "previous_page_uri": page.previous_link,
        "start": page.start,
        "uri": page.link(page.number),
    }


def page_v(
    ctx: Ctx, key: str, records: Sequence[T], render: Callable[[T], dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """The v1/v2 APIs' envelope: ``{key: [...], meta: {page, page_size, ..._url, key, url}}``."""
    page = _page(ctx, records, render, f"https://{ctx.host}.twilio.com{ctx.path}")
    return 200, {
        key: page.items,
        "meta": {
            "page": page.number,
            "page_size": page.size,
            "first_page_url": page.link(0),
            "previous_page_url": page.previous_link,
            "url": page.link(page.number),
            "next_page_url": page.next_link,
            "key": key,
        },
    }
