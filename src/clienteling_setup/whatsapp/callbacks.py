"""Sender status callbacks from Twilio (already signature-checked by the webhook route).

A callback is parsed before it is applied: each field is bounded text that its column holds,
`Status` is one of the statuses Twilio's Senders API documents, and `OfflineReasons` is a small,
shallow JSON document. Anything else is 400 naming the field, and changes nothing.

Callbacks arrive out of order (Twilio retries; a replay may come much later), so a callback is
applied only if it is not older than what the record shows: by Twilio's `Timestamp` when both
the callback and the last applied callback carry one, else by the status's place in the
sender's life (`STATUS_RANK`). An older one is 409 and changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.errors import describe_validation_errors
from clienteling_setup.text import Text, column_length
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord as Record

#: Where each status of Twilio's Senders API stands in a sender's life (lower case, as
#: recorded). A callback without a usable timestamp never moves a sender back to an earlier
#: stage; among the live statuses (same rank) the later arrival wins.
STATUS_RANK = {
    "draft": 0,
    "stubbed": 0,
    "creating": 1,
    "pending_verification": 2,
    "verifying": 3,
    "twilio_review": 4,
    "online": 5,
    "online:updating": 5,
    "offline": 5,
}
#: The largest `OfflineReasons` accepted, and how deep its JSON may nest: Twilio sends an
#: array of {code, message, more_info} objects (depth 2).
OFFLINE_REASONS_MAX_LENGTH = 4096
OFFLINE_REASONS_MAX_DEPTH = 3
OFFLINE_REASONS_MAX_ITEMS = 20

_SENDER_SID = r"^XE[0-9a-fA-F]{32}$"
_SENDER_ID = r"^whatsapp:\+[0-9]{8,15}$"


class SenderStatusCallback(BaseModel):
    """The fields of a sender status callback this service reads (others are ignored)."""

    model_config = ConfigDict(extra="ignore")

    sender_sid: Annotated[str, Text(column_length(Record.sender_sid))] | None = Field(
        default=None, alias="SenderSid", pattern=_SENDER_SID
    )
    sender_id: Annotated[str, Text(64)] | None = Field(
        default=None, alias="SenderId", pattern=_SENDER_ID
    )
    status: Annotated[str, Text(column_length(Record.status))] | None = Field(
        default=None, alias="Status"
    )
    quality_rating: Annotated[str, Text(column_length(Record.quality_rating))] | None = Field(
        default=None, alias="QualityRating"
    )
    messaging_limit: Annotated[str, Text(column_length(Record.messaging_limit))] | None = Field(
        default=None, alias="MessagingLimit"
    )
    offline_reasons: Annotated[str, Text(OFFLINE_REASONS_MAX_LENGTH)] | None = Field(
        default=None, alias="OfflineReasons"
    )
    timestamp: datetime | None = Field(default=None, alias="Timestamp")

    @field_validator("status")
    @classmethod
    def _known_status(cls, value: str | None) -> str | None:
        if value is None:
            return None
        status = value.lower()
        if status not in STATUS_RANK:
            known = ", ".join(s.upper() for s in STATUS_RANK)
            raise ValueError(f"'{value}' is not a sender status of Twilio's ({known})")
        return status

    @field_validator("timestamp")
    @classmethod
    def _with_zone(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("must be an ISO 8601 time with its zone, such as 2026-12-01T10:00:00Z")
        return value

    @classmethod
    def parse(cls, params: dict[str, str]) -> SenderStatusCallback:
        # Empty values are absent: Twilio leaves out what has no value, a form may send "".
        present = {k: v for k, v in params.items() if v != ""}
        try:
            return cls.model_validate(present)
        except ValidationError as exc:
            problem = describe_validation_errors([dict(e) for e in exc.errors()])
            raise errors.BadRequest(f"Sender status callback refused: {problem}") from exc


def _nesting(text: str) -> int:
    """How deep brackets nest in a JSON text, strings skipped: checked before parsing, since
    the parser recurses once per level (a few thousand `[` exhaust the interpreter's stack)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_offline_reasons(raw: str | None) -> list[str] | None:
    """The callback's `OfflineReasons`: a JSON array of {code, message, ...} objects or strings
    (plain text is one reason). Bounded: too deep or too many reasons is 400."""
    if not raw:
        return None
    if _nesting(raw) > OFFLINE_REASONS_MAX_DEPTH:
        raise errors.BadRequest(
            f"Sender status callback refused: 'OfflineReasons' nests deeper than "
            f"{OFFLINE_REASONS_MAX_DEPTH} levels; send an array of {{code, message}} objects."
        )
    try:
        items = json.loads(raw)
    except ValueError:
        return [raw]
    if not isinstance(items, list):
        items = [items]
    if len(items) > OFFLINE_REASONS_MAX_ITEMS:
        raise errors.BadRequest(
            f"Sender status callback refused: 'OfflineReasons' lists {len(items)} reasons; "
            f"at most {OFFLINE_REASONS_MAX_ITEMS} are accepted."
        )
    reasons: list[str] = []
    for item in items:
        if isinstance(item, dict):
            code, message = item.get("code"), item.get("message")
            text = ": ".join(str(part) for part in (code, message) if part)
            if text:
                reasons.append(text)
        elif item:
            reasons.append(str(item))
    return reasons or None


def apply_status_callback(uows: UnitsOfWork, tenant_id: str, params: dict[str, str]) -> bool:
    """Record what a (verified) sender status callback says; False if no sender matches.
    400 if the callback is malformed, 409 if it is older than what is recorded."""
    callback = SenderStatusCallback.parse(params)
    reasons = parse_offline_reasons(callback.offline_reasons)
    with uows.of(tenant_id) as uow:
        row = uow.senders.by_sender_sid(callback.sender_sid) if callback.sender_sid else None
        number = (callback.sender_id or "").removeprefix("whatsapp:")
        if row is None and callback.sender_sid and callback.sender_id:
            # The sender was created but not recorded yet (a crash, or a very fast callback).
            row = uow.senders.by_number(number)
            if row is not None and row.sender_sid is None:
                row.sender_sid = callback.sender_sid
            else:
                row = None
        if row is None:
            return False
        if not is_current(row, callback):
            raise errors.Conflict(
                f"This callback ({(callback.status or 'no status').upper()} at "
                f"{callback.timestamp or 'no time'}) is older than the sender's recorded status "
                f"({row.status.upper()}); it was not applied."
            )
        _apply(row, callback, reasons)
        return True


def is_current(row: Record, callback: SenderStatusCallback) -> bool:
    """Whether `callback` is not older than what `row` shows (see the module's docstring)."""
    if callback.timestamp is not None and row.status_at is not None:
        if callback.timestamp != row.status_at:
            return callback.timestamp > row.status_at
    if callback.status is None:
        return True  # the properties alone: nothing to order them by
    return STATUS_RANK[callback.status] >= STATUS_RANK.get(row.status, -1)


def _apply(row: Record, callback: SenderStatusCallback, reasons: list[str] | None) -> None:
    if callback.status:
        row.status = callback.status
    if callback.quality_rating:
        row.quality_rating = callback.quality_rating
    if callback.messaging_limit:
        row.messaging_limit = callback.messaging_limit
    if reasons is not None:
        row.offline_reasons = reasons
    elif callback.status and callback.status != "offline":
        row.offline_reasons = None
    if callback.timestamp is not None:
        row.status_at = callback.timestamp
    row.updated_at = utcnow()
