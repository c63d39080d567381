from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from clienteling_setup.db.base import Base


class Lease(Base):
    """A named lease: one holder per name, while its heartbeat is fresh and until `expires_at`
    (`workflow.leases`)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    #: The holder's process stamps it every few seconds while it holds the lease (None: a
    #: lease written before heartbeats existed).
    heartbeat_at: Mapped[datetime | None]
