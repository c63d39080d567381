from __future__ import annotations

from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.whatsapp.models import WhatsAppSenderRecord


class SenderRepository(TenantScopedRepository[WhatsAppSenderRecord]):
    """Stores' WhatsApp senders as last seen from Twilio."""

    model = WhatsAppSenderRecord

    def by_number(self, phone_number: str) -> WhatsAppSenderRecord | None:
        return self._one(WhatsAppSenderRecord.phone_number == phone_number)

    def by_sender_sid(self, sender_sid: str) -> WhatsAppSenderRecord | None:
        return self._one(WhatsAppSenderRecord.sender_sid == sender_sid)

    def all(self) -> list[WhatsAppSenderRecord]:
        return self._all()
