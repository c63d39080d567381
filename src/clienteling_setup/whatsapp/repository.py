from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clienteling_setup.whatsapp.models import WhatsAppSenderRecord


class SenderRepository:
    """Stores' WhatsApp senders as last seen from Twilio."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, store_id: str) -> WhatsAppSenderRecord | None:
        return self.session.get(WhatsAppSenderRecord, (self.tenant_id, store_id))

    def add(self, row: WhatsAppSenderRecord) -> WhatsAppSenderRecord:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row

    def delete(self, row: WhatsAppSenderRecord) -> None:
        if row.tenant_id == self.tenant_id:
            self.session.delete(row)

    def by_number(self, phone_number: str) -> WhatsAppSenderRecord | None:
        return self.session.scalar(
            select(WhatsAppSenderRecord).where(
                WhatsAppSenderRecord.tenant_id == self.tenant_id,
                WhatsAppSenderRecord.phone_number == phone_number,
            )
        )

    def by_sender_sid(self, sender_sid: str) -> WhatsAppSenderRecord | None:
        return self.session.scalar(
            select(WhatsAppSenderRecord).where(
                WhatsAppSenderRecord.tenant_id == self.tenant_id,
                WhatsAppSenderRecord.sender_sid == sender_sid,
            )
        )

    def all(self) -> list[WhatsAppSenderRecord]:
        return list(
            self.session.scalars(
                select(WhatsAppSenderRecord).where(WhatsAppSenderRecord.tenant_id == self.tenant_id)
            )
        )
