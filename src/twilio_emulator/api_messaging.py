"""messaging v1 (Services and their PhoneNumbers) and v2 (Channels/Senders).

These APIs act on the authenticated account itself: main-account credentials see the main
account's resources, never a subaccount's.
"""

from __future__ import annotations

import re
from typing import Any

import phonenumbers

from . import render, senders
from .errors import TwilioError, invalid_param, not_found
from .models import MessagingService, Sender, ServiceNumber
from .routing import SID, Ctx, optional, page_v, record_routes, route

SENDER_ID = re.compile(r"^whatsapp:(\+[1-9]\d{6,14})$")


@route("POST", "messaging", r"/v1/Services")
def create_service(ctx: Ctx) -> tuple[int, Any]:
    name = ctx.require("FriendlyName")
    now = ctx.state.now()
    svc = MessagingService(ctx.state.new_sid("MG"), ctx.account.sid, name, now, now)
    svc.inbound_request_url = ctx.params.get("InboundRequestUrl") or None
    svc.status_callback = ctx.params.get("StatusCallback") or None
    svc.usecase = ctx.params.get("Usecase") or "undeclared"
    ctx.state.services_by_sid[svc.sid] = svc
    return 201, render.service(svc)


@route("GET", "messaging", r"/v1/Services")
def list_services(ctx: Ctx) -> tuple[int, Any]:
    found = ctx.state.messaging_services(ctx.account.sid)
    return page_v(ctx, "services", found, render.service)


def _service(ctx: Ctx, group: str = "Sid") -> MessagingService:
    return ctx.owned(ctx.state.services_by_sid, group)


def _update_service(ctx: Ctx, svc: MessagingService) -> None:
    ctx.assign(
        svc,
        FriendlyName="friendly_name",
        InboundRequestUrl=("inbound_request_url", optional),
        StatusCallback=("status_callback", optional),
    )
    svc.date_updated = ctx.state.now()


def _delete_service(ctx: Ctx, svc: MessagingService) -> None:
    """The numbers in a deleted service stay owned; they only leave the service."""
    del ctx.state.services_by_sid[svc.sid]
    for key in [k for k in ctx.state.service_numbers if k[0] == svc.sid]:
        del ctx.state.service_numbers[key]


record_routes(
    "messaging",
    rf"/v1/Services/(?P<Sid>MG{SID})",
    _service,
    render.service,
    _update_service,
    _delete_service,
)


@route("POST", "messaging", rf"/v1/Services/(?P<ServiceSid>MG{SID})/PhoneNumbers")
def add_service_number(ctx: Ctx) -> tuple[int, Any]:
    svc = _service(ctx, "ServiceSid")
    sid = ctx.require("PhoneNumberSid")
    number = ctx.state.numbers_by_sid.get(sid)
    if number is None or number.account_sid != ctx.account.sid:
        raise TwilioError(404, 20404, f"The requested resource PhoneNumber {sid} was not found")
    for (service_sid, number_sid), _ in ctx.state.service_numbers.items():
        if number_sid != sid:
            continue
        if service_sid == svc.sid:
            raise TwilioError(409, 21710, "Phone Number is already in the Messaging Service")
        raise TwilioError(
            409,
            21712,
            f"Phone Number {number.phone_number} is already associated "
            f"with another Messaging Service ({service_sid})",
        )
    capabilities = ["Voice"] + (["SMS"] if number.sms else []) + (["MMS"] if number.mms else [])
    now = ctx.state.now()
    entry = ServiceNumber(
        number.sid,
        ctx.account.sid,
        svc.sid,
        number.phone_number,
        number.iso_country,
        capabilities,
        now,
        now,
    )
    ctx.state.service_numbers[(svc.sid, number.sid)] = entry
    return 201, render.service_number(entry)


@route("GET", "messaging", rf"/v1/Services/(?P<ServiceSid>MG{SID})/PhoneNumbers")
def list_service_numbers(ctx: Ctx) -> tuple[int, Any]:
    svc = _service(ctx, "ServiceSid")
    found = ctx.state.messaging_service_numbers(svc.sid)
    return page_v(ctx, "phone_numbers", found, render.service_number)


def _service_number(ctx: Ctx) -> ServiceNumber:
    svc = _service(ctx, "ServiceSid")
    entry = ctx.state.service_numbers.get((svc.sid, ctx.groups["Sid"]))
    if entry is None:
        raise not_found(ctx.path)
    return entry


def _remove_service_number(ctx: Ctx, entry: ServiceNumber) -> None:
    del ctx.state.service_numbers[(entry.service_sid, entry.sid)]


record_routes(
    "messaging",
    rf"/v1/Services/(?P<ServiceSid>MG{SID})/PhoneNumbers/(?P<Sid>PN{SID})",
    _service_number,
    render.service_number,
    delete=_remove_service_number,
)


# ---------------------------------------------------------------------- senders (JSON bodies)
def _object(body: dict[str, Any], name: str) -> dict[str, Any]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_param(f"{name} must be an object")
    return value


def _merge(current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(current)
    merged.update({k: v for k, v in update.items() if v is not None})
    return merged


def _body(ctx: Ctx) -> dict[str, Any]:
    if not isinstance(ctx.json, dict):
        raise invalid_param("The request body must be a JSON object")
    return ctx.json


@route("POST", "messaging", r"/v2/Channels/Senders")
def create_sender(ctx: Ctx) -> tuple[int, Any]:
    body = _body(ctx)
    sender_id = body.get("sender_id")
    if not sender_id:
        raise invalid_param("Missing required parameter sender_id")
    match = SENDER_ID.match(str(sender_id))
    if match is None or not phonenumbers.is_valid_number(phonenumbers.parse(match[1])):
        raise invalid_param(
            f"sender_id must be 'whatsapp:' and a valid E.164 number, not {sender_id!r}"
        )
    for existing in ctx.state.senders_by_sid.values():
        if existing.sender_id == sender_id:
            raise TwilioError(
                409, 20001, f"Sender {sender_id} is already registered ({existing.sid})"
            )
    now = ctx.state.clock
    sender = Sender(
        sid=ctx.state.new_sid("XE"),
        account_sid=ctx.account.sid,
        sender_id=str(sender_id),
        status="CREATING",
        configuration=senders.configuration(_object(body, "configuration")),
        webhook=senders.webhook(_object(body, "webhook")),
        profile=senders.profile(_object(body, "profile")),
        created_at=now,
        status_since=now,
    )
    ctx.state.senders_by_sid[sender.sid] = sender
    return 202, render.sender(sender)


@route("GET", "messaging", r"/v2/Channels/Senders")
def list_senders(ctx: Ctx) -> tuple[int, Any]:
    channel = ctx.require("Channel")
    if channel not in ("whatsapp", "rcs"):
        raise invalid_param(f"Channel must be whatsapp or rcs, not {channel!r}")
    found = [s for s in ctx.state.senders(ctx.account.sid) if s.sender_id.startswith(channel + ":")]
    return page_v(ctx, "senders", found, render.sender)


def _sender(ctx: Ctx) -> Sender:
    return ctx.owned(ctx.state.senders_by_sid)


def _delete_sender(ctx: Ctx, sender: Sender) -> None:
    del ctx.state.senders_by_sid[sender.sid]


SENDER = rf"/v2/Channels/Senders/(?P<Sid>XE{SID})"
record_routes("messaging", SENDER, _sender, render.sender, delete=_delete_sender)


@route("POST", "messaging", SENDER)
def update_sender(ctx: Ctx) -> tuple[int, Any]:
    sender = _sender(ctx)
    body = _body(ctx)
    configuration = _object(body, "configuration")
    profile = _object(body, "profile")
    sender.configuration = senders.configuration(_merge(sender.configuration, configuration))
    sender.webhook = senders.webhook(_merge(sender.webhook, _object(body, "webhook")))
    if profile:
        sender.profile = senders.profile(_merge(sender.profile, profile))
    pending = senders.on_update(
        ctx.state,
        sender,
        verification_code=configuration.get("verification_code"),
        profile_changed=bool(profile),
    )
    # Queued now, under the state lock, so they go out before any later change's callback.
    ctx.state.deliver_later(pending)
    return 202, render.sender(sender)
