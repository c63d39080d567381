"""2010 API: Accounts, Addresses and Applications."""

from __future__ import annotations

from typing import Any

from . import render
from .errors import TwilioError, not_found
from .models import Application
from .routing import SID, Ctx, page_2010, route

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
    me = ctx.account
    found = [
        a for a in ctx.state.accounts.values() if a.sid == me.sid or a.owner_account_sid == me.sid
    ]
    if name := ctx.params.get("FriendlyName"):
        found = [a for a in found if a.friendly_name == name]
    if status := ctx.params.get("Status"):
        found = [a for a in found if a.status == status]
    return page_2010(ctx, "accounts", [render.account(a) for a in found])


@route("GET", "api", rf"/2010-04-01/Accounts/(?P<AccountSid>AC{SID})\.json")
def fetch_account(ctx: Ctx) -> tuple[int, Any]:
    return 200, render.account(ctx.target_account())


@route("POST", "api", rf"/2010-04-01/Accounts/(?P<AccountSid>AC{SID})\.json")
def update_account(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    if name := ctx.params.get("FriendlyName"):
        account.friendly_name = name
    if status := ctx.params.get("Status"):
        if status not in ("active", "suspended", "closed"):
            raise TwilioError(
                400, 20001, f"Status must be active, suspended or closed, not {status!r}"
            )
        account.status = status
    account.date_updated = ctx.state.now()
    return 200, render.account(account)


@route("GET", "api", ACC + r"/Addresses\.json")
def list_addresses(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    found = ctx.state.addresses(account.sid)
    if country := ctx.params.get("IsoCountry"):
        found = [a for a in found if a.iso_country == country.upper()]
    if name := ctx.params.get("FriendlyName"):
        found = [a for a in found if a.friendly_name == name]
    if customer := ctx.params.get("CustomerName"):
        found = [a for a in found if a.customer_name == customer]
    return page_2010(ctx, "addresses", [render.address(a) for a in found])


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


@route("GET", "api", ACC + rf"/Addresses/(?P<Sid>AD{SID})\.json")
def fetch_address(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    address = ctx.state.addresses_by_sid.get(ctx.groups["Sid"])
    if address is None or address.account_sid != account.sid:
        raise not_found(ctx.path)
    return 200, render.address(address)


def _apply_application(ctx: Ctx, app: Application) -> None:
    p = ctx.params
    if "FriendlyName" in p:
        app.friendly_name = p["FriendlyName"]
    if "VoiceUrl" in p:
        app.voice_url = p["VoiceUrl"] or None
    if "VoiceMethod" in p:
        app.voice_method = _method(p["VoiceMethod"], "VoiceMethod")
    if "StatusCallback" in p:
        app.status_callback = p["StatusCallback"] or None
    if "StatusCallbackMethod" in p:
        app.status_callback_method = _method(p["StatusCallbackMethod"], "StatusCallbackMethod")
    if "SmsUrl" in p:
        app.sms_url = p["SmsUrl"] or None
    if "SmsMethod" in p:
        app.sms_method = _method(p["SmsMethod"], "SmsMethod")
    app.date_updated = ctx.state.now()


def _method(value: str, name: str) -> str:
    if value.upper() not in ("GET", "POST"):
        raise TwilioError(400, 20001, f"{name} must be GET or POST, not {value!r}")
    return value.upper()


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
    account = ctx.target_account()
    found = ctx.state.applications(account.sid)
    if name := ctx.params.get("FriendlyName"):
        found = [a for a in found if a.friendly_name == name]
    return page_2010(ctx, "applications", [render.application(a) for a in found])


def _application(ctx: Ctx) -> Application:
    account = ctx.target_account()
    app = ctx.state.applications_by_sid.get(ctx.groups["Sid"])
    if app is None or app.account_sid != account.sid:
        raise not_found(ctx.path)
    return app


@route("GET", "api", ACC + rf"/Applications/(?P<Sid>AP{SID})\.json")
def fetch_application(ctx: Ctx) -> tuple[int, Any]:
    return 200, render.application(_application(ctx))


@route("POST", "api", ACC + rf"/Applications/(?P<Sid>AP{SID})\.json")
def update_application(ctx: Ctx) -> tuple[int, Any]:
    app = _application(ctx)
    _apply_application(ctx, app)
    return 200, render.application(app)


@route("DELETE", "api", ACC + rf"/Applications/(?P<Sid>AP{SID})\.json")
def delete_application(ctx: Ctx) -> tuple[int, Any]:
    app = _application(ctx)
    del ctx.state.applications_by_sid[app.sid]
    for number in ctx.state.owned_numbers(app.account_sid):
        if number.voice_application_sid == app.sid:
            number.voice_application_sid = None
    return 204, None
