"""2010 API: AvailablePhoneNumbers and IncomingPhoneNumbers, with Twilio's purchase rules.

Purchase (POST IncomingPhoneNumbers.json), in Twilio's order:

* a number the same account already owns: 201 with the number, updated (Twilio's "feature");
* a number another account owns, one not in the pool, or not a valid number: 21422 (400);
* a number type that requires an address without ``AddressSid``: 21631; an address of another
  account (or none with that SID): 21613; a ``local`` requirement with an address of another
  country: 21615;
* a type that requires a bundle without ``BundleSid``, or a bundle that is not ``twilio-approved``
  or of another country/number type: 21649; a bundle of another account: 22205;
* a ``VoiceApplicationSid`` that is not the account's: 22205 (the same for updates).
"""

from __future__ import annotations

from typing import Any

from . import render
from .countries import COUNTRIES, TYPE_SEGMENTS
from .errors import TwilioError, invalid_param, not_found
from .models import IncomingNumber
from .numbers import AvailableNumber, contains_pattern, distance_miles
from .routing import SID, Ctx, optional, page_2010, page_size, record_routes, route

ACC = rf"/2010-04-01/Accounts/(?P<AccountSid>AC{SID})"
SEGMENTS = "|".join(TYPE_SEGMENTS)


def _search(ctx: Ctx, pool: list[AvailableNumber], geo: bool) -> list[AvailableNumber]:
    p = ctx.params
    found = pool
    sms, mms, voice = ctx.flag("SmsEnabled"), ctx.flag("MmsEnabled"), ctx.flag("VoiceEnabled")
    if sms is not None:
        found = [n for n in found if n.sms == sms]
    if mms is not None:
        found = [n for n in found if n.mms == mms]
    if voice is not None:
        found = [n for n in found if n.voice == voice]
    if contains := p.get("Contains"):
        try:
            pattern = contains_pattern(contains)
        except ValueError as exc:
            raise invalid_param(
                f"Contains may hold digits, letters and *, not {contains!r}"
            ) from exc
        found = [n for n in found if pattern.search(n.phone_number[1:])]
    if locality := p.get("InLocality"):
        found = [n for n in found if n.place and n.place.locality.lower() == locality.lower()]
    if not geo:  # Twilio: these filters apply only to phone numbers in the US and Canada
        return found
    if area := p.get("AreaCode"):
        if not area.isdigit() or len(area) != 3:
            raise invalid_param(f"AreaCode must be a 3-digit area code, not {area!r}")
        found = [n for n in found if n.national_number.startswith(area)]
    if region := p.get("InRegion"):
        found = [n for n in found if n.place and n.place.region.lower() == region.lower()]
    if postal := p.get("InPostalCode"):
        code = postal.upper().replace(" ", "")
        found = [
            n
            for n in found
            if n.place
            and (
                n.place.postal_code.replace(" ", "") == code
                or any(code.startswith(prefix) for prefix in n.place.postal_prefixes)
            )
        ]
    if near := p.get("NearLatLong"):
        try:
            lat_text, lon_text = near.split(",")
            lat, lon = float(lat_text), float(lon_text)
            distance = float(p.get("Distance") or 25)
        except ValueError as exc:
            raise invalid_param(f"NearLatLong must be 'latitude,longitude', not {near!r}") from exc
        found = [
            n
            for n in found
            if n.place and distance_miles(lat, lon, n.place.latitude, n.place.longitude) <= distance
        ]
    return found


@route(
    "GET",
    "api",
    ACC + rf"/AvailablePhoneNumbers/(?P<CountryCode>[A-Za-z]{{2}})/(?P<Type>{SEGMENTS})\.json",
)
def list_available(ctx: Ctx) -> tuple[int, Any]:
    ctx.target_account()
    iso = ctx.groups["CountryCode"].upper()
    rules = COUNTRIES.get(iso)
    number_type = TYPE_SEGMENTS[ctx.groups["Type"]]
    if rules is None or number_type not in rules.types:
        raise not_found(ctx.path)
    found = _search(ctx, ctx.state.pool(iso, number_type), rules.geo_search)
    # Twilio answers one page of candidates: PageSize of them, never a next page.
    first = found[: page_size(ctx)]
    return page_2010(ctx, "available_phone_numbers", first, render.available_number)


def _address(
    ctx: Ctx, account_sid: str, available: AvailableNumber | None, sid: str | None, requirement: str
) -> str | None:
    if not sid:
        if requirement != "none":
            raise TwilioError(
                400,
                21631,
                "Phone Number Requires an Address: AddressSid is required "
                f"for {available.iso_country if available else ''} numbers of this type",
            )
        return None
    address = ctx.state.addresses_by_sid.get(sid)
    if address is None or address.account_sid != account_sid:
        raise TwilioError(400, 21613, f"Address {sid} does not belong to account {account_sid}")
    if available and requirement == "local" and address.iso_country != available.iso_country:
        raise TwilioError(
            400,
            21615,
            "Phone Number Requires a Local Address: address "
            f"{sid} is in {address.iso_country}, not {available.iso_country}",
        )
    return address.sid


def _bundle(
    ctx: Ctx, account_sid: str, available: AvailableNumber | None, sid: str | None, required: bool
) -> str | None:
    if not sid:
        if required:
            raise TwilioError(
                400,
                21649,
                "Phone Number Requires a Bundle: BundleSid is required for "
                f"{available.iso_country if available else ''} numbers of this type",
            )
        return None
    bundle = ctx.state.bundles_by_sid.get(sid)
    if bundle is None:
        raise TwilioError(400, 21649, f"Bundle {sid} was not found")
    if bundle.account_sid != account_sid:
        raise TwilioError(400, 22205, f"Bundle {sid} belongs to another account")
    if bundle.status != "twilio-approved":
        raise TwilioError(400, 21649, f"Bundle {sid} is not approved (status: {bundle.status})")
    if available and (bundle.iso_country, bundle.number_type) != (
        available.iso_country,
        available.number_type,
    ):
        raise TwilioError(
            400,
            21649,
            f"Bundle {sid} is for {bundle.iso_country} "
            f"{bundle.number_type} numbers, not {available.iso_country} "
            f"{available.number_type}",
        )
    return bundle.sid


def _application(ctx: Ctx, account_sid: str, sid: str) -> str | None:
    if not sid:
        return None
    app = ctx.state.applications_by_sid.get(sid)
    if app is None or app.account_sid != account_sid:
        raise TwilioError(
            400, 22205, f"VoiceApplicationSid {sid} is not an application of account {account_sid}"
        )
    return app.sid


def _apply(ctx: Ctx, number: IncomingNumber) -> None:
    p = ctx.params
    ctx.assign(
        number,
        FriendlyName=("friendly_name", lambda name: name or number.phone_number),
        VoiceApplicationSid=(
            "voice_application_sid",
            lambda sid: _application(ctx, number.account_sid, sid),
        ),
        VoiceUrl=("voice_url", optional),
        VoiceMethod=("voice_method", str.upper),
        SmsUrl=("sms_url", optional),
        SmsMethod=("sms_method", str.upper),
        StatusCallback=("status_callback", optional),
    )
    if p.get("AddressSid"):
        number.address_sid = _address(ctx, number.account_sid, None, p["AddressSid"], "none")
    if p.get("BundleSid"):
        number.bundle_sid = _bundle(ctx, number.account_sid, None, p["BundleSid"], False)
    number.date_updated = ctx.state.now()


@route("POST", "api", ACC + r"/IncomingPhoneNumbers\.json")
def buy_number(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    state = ctx.state
    phone = ctx.params.get("PhoneNumber", "").strip()
    if not phone and (area := ctx.params.get("AreaCode")):
        candidates = [
            n
            for iso in ("US", "CA")
            for n in state.pool(iso, "local")
            if n.national_number.startswith(area)
        ]
        if not candidates:
            raise TwilioError(400, 21452, f"No phone numbers found in area code {area}")
        phone = candidates[0].phone_number
    if not phone:
        raise TwilioError(400, 21451, "A PhoneNumber or AreaCode is required")
    owned = state.number_owner(phone)
    if owned is not None:
        if owned.account_sid != account.sid:
            raise TwilioError(400, 21422, f"PhoneNumber {phone} is not available")
        _apply(ctx, owned)  # Twilio answers a repeated purchase like an update
        return 201, render.incoming_number(owned)
    available = state.find_available(phone)
    if available is None:
        raise TwilioError(400, 21422, f"PhoneNumber {phone} is not available")
    rule = COUNTRIES[available.iso_country].types[available.number_type]
    p = ctx.params
    address_sid = _address(
        ctx, account.sid, available, p.get("AddressSid"), rule.address_requirements
    )
    bundle_sid = _bundle(ctx, account.sid, available, p.get("BundleSid"), rule.bundle_required)
    voice_app = _application(ctx, account.sid, p.get("VoiceApplicationSid", ""))
    now = state.now()
    number = IncomingNumber(
        sid=state.new_sid("PN"),
        account_sid=account.sid,
        phone_number=phone,
        friendly_name=p.get("FriendlyName") or available.friendly_name,
        iso_country=available.iso_country,
        number_type=available.number_type,
        sms=rule.sms,
        mms=rule.mms,
        address_requirements=rule.address_requirements,
        date_created=now,
        date_updated=now,
        address_sid=address_sid,
        bundle_sid=bundle_sid,
        voice_application_sid=voice_app,
        voice_url=p.get("VoiceUrl") or None,
        sms_url=p.get("SmsUrl") or None,
        status_callback=p.get("StatusCallback") or None,
    )
    state.numbers_by_sid[number.sid] = number
    return 201, render.incoming_number(number)


@route("GET", "api", ACC + r"/IncomingPhoneNumbers\.json")
def list_numbers(ctx: Ctx) -> tuple[int, Any]:
    account = ctx.target_account()
    found = sorted(ctx.state.owned_numbers(account.sid), key=lambda n: n.date_created, reverse=True)
    if phone := ctx.params.get("PhoneNumber"):
        try:
            pattern = contains_pattern(phone)
        except ValueError as exc:
            raise invalid_param(f"PhoneNumber may hold digits, + and *, not {phone!r}") from exc
        found = [n for n in found if pattern.search(n.phone_number[1:])]
    found = ctx.matching(found, FriendlyName="friendly_name")
    return page_2010(ctx, "incoming_phone_numbers", found, render.incoming_number)


def _release(ctx: Ctx, number: IncomingNumber) -> None:
    """Twilio ages a released number before selling it again: it leaves the account (a second
    DELETE of the SID is 20404) and does not come back to the available pool at once."""
    del ctx.state.numbers_by_sid[number.sid]
    ctx.state.unavailable_numbers.add(number.phone_number)
    for key in [k for k in ctx.state.service_numbers if k[1] == number.sid]:
        del ctx.state.service_numbers[key]


record_routes(
    "api",
    ACC + rf"/IncomingPhoneNumbers/(?P<Sid>PN{SID})\.json",
    lambda ctx: ctx.owned(ctx.state.numbers_by_sid),
    render.incoming_number,
    update=_apply,
    delete=_release,
)
