"""Sender status callbacks from Twilio (already signature-checked by the webhook route)."""

from __future__ import annotations

import json

from clienteling_setup.db.base import utcnow
from clienteling_setup.unit_of_work import UnitsOfWork


def parse_offline_reasons(raw: str | None) -> list[str] | None:
    """The callback's `OfflineReasons`: a JSON array of {code, message, ...} objects or strings."""
    if not raw:
        return None
    try:
        items = json.loads(raw)
    except ValueError:
        return [raw]
    if not isinstance(items, list):
        items = [items]
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
    """Record what a (verified) sender status callback says; False if no sender matches."""
    sender_sid = params.get("SenderSid", "")
    sender_id = params.get("SenderId", "")
    with uows.of(tenant_id) as uow:
        row = uow.senders.by_sender_sid(sender_sid) if sender_sid else None
        if row is None and sender_sid and sender_id.startswith("whatsapp:"):
            # The sender was created but not recorded yet (a crash, or a very fast callback).
            row = uow.senders.by_number(sender_id.removeprefix("whatsapp:"))
            if row is not None and row.sender_sid is None:
                row.sender_sid = sender_sid
            else:
                row = None
        if row is None:
            return False
        status = params.get("Status")
        if status:
            row.status = status.lower()
        if params.get("QualityRating"):
            row.quality_rating = params["QualityRating"]
        if params.get("MessagingLimit"):
            row.messaging_limit = params["MessagingLimit"]
        reasons = parse_offline_reasons(params.get("OfflineReasons"))
        if reasons is not None:
            row.offline_reasons = reasons
        elif status and status.lower() != "offline":
            row.offline_reasons = None
        row.updated_at = utcnow()
        return True
