"""2010 API: Accounts, Addresses and Applications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import render
from .errors import TwilioError
from .models import Account, Application
from .routing import SID, Ctx, optional, page_2010, record_routes, route

ACC = rf"/2010-04-01/Accounts/(?P<AccountSid>AC{SID})"


@route("POST", "api", r"/2010-04-01/Accounts\.json")
def create_account(ctx: Ctx) -> tuple[int, Any]:
    if ctx.account.is_subaccount:
        raise TwilioError(403, 20008, "Subaccounts cannot create subaccounts")
    name = (
        ctx.params.get("FriendlyName") or f"SubAccount Created at {render.rfc2822(ctx.state.now())}"
    )
    account = ctx.state.create_subaccount(name)
    return 201, render.account(account)


@route("GET", "api", r"/2010-04-01/Accounts\.json")
def list_accounts(ctx: Ctx) -> tuple[int, Any]:
    me = ctx.account.sid
    found = [a for a in ctx.state.accounts.values() if me in (a.sid, a.owner_account_sid)]
    found = ctx.matching(found, FriendlyName="friendly_name", Status="status")
    return page_2010(ctx, "accounts", found, render.account)


def _account_record(ctx: Ctx) -> Account:
    """The account itself: its owner still sees (and may close again) a closed subaccount,
    as at Twilio; nothing else of a closed account is reachable."""
    target = ctx.state.accounts.get(ctx.groups["AccountSid"])
    if target is not None and target.status == "closed" and target.is_subaccount:
        if target.owner_account_sid == ctx.account.sid:
            return target
    return ctx.target_account()


def _update_account(ctx: Ctx, account: Account) -> None:
    if name := ctx.params.get("FriendlyName"):
        account.friendly_name = name
    if status := ctx.params.get("Status"):
        if status not in ("active", "suspended", "closed"):
            raise TwilioError(
                400, 20001, f"Status must be active, suspended or closed, not {status!r}"
            )
        if account.status == "closed" and status != "closed":
            raise TwilioError(400, 20001, "A closed account cannot be reopened")
        if status == "closed" and account.status != "closed":
            _release_everything(ctx, account)
        account.status = status
    account.date_updated = ctx.state.now()


def _release_everything(ctx: Ctx, account: Account) -> None:
    """Twilio releases the numbers of an account it closes (they age before being sold
    again, like any released number) and its Messaging Services' members with them."""
    state = ctx.state
    for number in state.owned_numbers(account.sid):
        del state.numbers_by_sid[number.sid]
        state.unavailable_numbers.add(number.phone_number)
        for key in [k for k in state.service_numbers if k[1] == number.sid]:
            del state.service_numbers[key]


record_routes("api", ACC + r"\.json", _account_record, render.account, _update_account)


@route("GET", "api", ACC + r"/Addresses\.json")
def list_addresses(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.matching(
        ctx.state.addresses(ctx.target_account().sid),
        IsoCountry=("iso_country", str.upper),
        FriendlyName="friendly_name",
        CustomerName="customer_name",
    )
    return page_2010(ctx, "addresses", found, render.address)


@route("POST", "api", ACC + r"/Addresses\.json")
def create_address(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    values = {
        n: ctx.require(n)
        for n in ("CustomerName", "Street", "City", "Region", "PostalCode", "IsoCountry")
    }
    address = ctx.state.add_address(
        account.sid,
        values["IsoCountry"].upper(),
        customer_name=values["CustomerName"],
        street=values["Street"],
        city=values["City"],
        region=values["Region"],
        postal_code=values["PostalCode"],
        friendly_name=ctx.params.get("FriendlyName") or values["CustomerName"],
        street_secondary=ctx.params.get("StreetSecondary") or None,
        emergency_enabled=bool(ctx.flag("EmergencyEnabled")),
    )
    return 201, render.address(address)


record_routes(
    "api",
    ACC + rf"/Addresses/(?P<Sid>AD{SID})\.json",
    lambda ctx: ctx.owned(ctx.state.addresses_by_sid),
    render.address,
)


def _method(name: str) -> Callable[[str], str]:
    def method(value: str) -> str:
        if value.upper() not in ("GET", "POST"):
            raise TwilioError(400, 20001, f"{name} must be GET or POST, not {value!r}")
        return value.upper()

    return method


def _apply_application(ctx: Ctx, app: Application) -> None:
    ctx.assign(
        app,
        FriendlyName="friendly_name",
        VoiceUrl=("voice_url", optional),
        VoiceMethod=("voice_method", _method("VoiceMethod")),
        StatusCallback=("status_callback", optional),
        StatusCallbackMethod=("status_callback_method", _method("StatusCallbackMethod")),
        SmsUrl=("sms_url", optional),
        SmsMethod=("sms_method", _method("SmsMethod")),
    )
    app.date_updated = ctx.state.now()


@route("POST", "api", ACC + r"/Applications\.json")
def create_application(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    now = ctx.state.now()
    app = Application(ctx.state.new_sid("AP"), account.sid, "", now, now)
    _apply_application(ctx, app)
    ctx.state.applications_by_sid[app.sid] = app
    return 201, render.application(app)


@route("GET", "api", ACC + r"/Applications\.json")
def list_applications(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.state.applications(ctx.target_account().sid)
    found = ctx.matching(found, FriendlyName="friendly_name")
    return page_2010(ctx, "applications", found, render.application)


def _delete_application(ctx: Ctx, app: Application) -> None:
    del ctx.state.applications_by_sid[app.sid]
    for number in ctx.state.owned_numbers(app.account_sid):
        if number.voice_application_sid == app.sid:
            number.voice_application_sid = None


record_routes(
    "api",
    ACC + rf"/Applications/(?P<Sid>AP{SID})\.json",
    lambda ctx: ctx.owned(ctx.state.applications_by_sid),
    render.application,
    update=_apply_application,
    delete=_delete_application,
)
