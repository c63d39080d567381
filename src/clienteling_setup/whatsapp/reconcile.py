"""Keep WhatsApp sender records true: apply a status from a callback or from Twilio itself."""

from __future__ import annotations

import logging

from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    NotFound,
    WhatsAppSender,
)
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord

# Meta's review is over in these states; anything else is polled by reconciliation.
FINAL_STATUSES = frozenset({"online", "offline"})


def apply_sender(record: WhatsAppSenderRecord, sender: WhatsAppSender) -> None:
    record.sender_sid = sender.sid
    record.status = sender.status.lower()
    record.quality_rating = sender.quality_rating
    record.messaging_limit = sender.messaging_limit
    record.offline_reasons = list(sender.offline_reasons) or None


log = logging.getLogger(__name__)


def refresh_senders(
    uows: UnitsOfWork, gateway: MessagingGateway, tenant_id: str, account: AccountCredentials
) -> int:
    """Fetch every sender not in a final state, and adopt senders Twilio created for a claim
    that was never recorded (a crash between create and record). Never creates anything."""
    with uows.of(tenant_id) as uow:
        records = uow.senders.all()
        pending = [
            (r.store_id, r.sender_sid)
            for r in records
            if r.sender_sid and r.status not in FINAL_STATUSES
        ]
        unrecorded = [(r.store_id, r.phone_number) for r in records if not r.sender_sid]
    if unrecorded:
        by_id = {s.sender_id: s for s in gateway.list_senders(account)}
        for store_id, phone_number in unrecorded:
            found = by_id.get(f"whatsapp:{phone_number}")
            if found is None:
                continue
            with uows.of(tenant_id) as uow:
                record = uow.senders.get(store_id)
                if (
                    record is not None
                    and record.sender_sid is None
                    and record.phone_number == phone_number
                ):
                    apply_sender(record, found)
    for store_id, sender_sid in pending:
        assert sender_sid is not None
        try:
            sender = gateway.fetch_sender(account, sender_sid)
        except NotFound:
            # Deleted at Twilio: by an offboarding whose holder died (it is resumed when its
            # lease goes stale) or outside the service. One missing sender must not fail the
            # tenant's whole pass.
            log.warning("sender not found", extra={"tenant": tenant_id, "store": store_id})
            continue
        with uows.of(tenant_id) as uow:
            record = uow.senders.get(store_id)
            if record is not None and record.sender_sid == sender_sid:
                apply_sender(record, sender)
    return len(pending)
