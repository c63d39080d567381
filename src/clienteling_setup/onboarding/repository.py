from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding


class OnboardingRepository:
    """Stores' SMS onboardings (the claim row and how far its steps got)."""

    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, store_id: str) -> StoreOnboarding | None:
        return self.session.get(StoreOnboarding, (self.tenant_id, store_id))

    def add(self, row: StoreOnboarding) -> StoreOnboarding:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        return row

    def by_number(self, phone_number: str) -> StoreOnboarding | None:
        return self.session.scalar(
            select(StoreOnboarding).where(
                StoreOnboarding.tenant_id == self.tenant_id,
                StoreOnboarding.phone_number == phone_number,
            )
        )

    def unfinished(self) -> list[StoreOnboarding]:
        return list(
            self.session.scalars(
                select(StoreOnboarding).where(
                    StoreOnboarding.tenant_id == self.tenant_id,
                    StoreOnboarding.status != "onboarded",
                )
            )
        )

    def delete_unfinished(self, store_id: str, phone_number: str) -> bool:
        """Delete the store's claim on `phone_number` unless it is onboarded."""
        deleted = self.session.execute(
            delete(StoreOnboarding).where(
                StoreOnboarding.tenant_id == self.tenant_id,
                StoreOnboarding.store_id == store_id,
                StoreOnboarding.phone_number == phone_number,
                StoreOnboarding.status != "onboarded",
            )
        )
        return bool(deleted.rowcount)  # type: ignore[attr-defined]

    def count_onboarded(self) -> int:
        return int(
            self.session.scalar(
                select(func.count())
                .select_from(StoreOnboarding)
                .where(
                    StoreOnboarding.tenant_id == self.tenant_id,
                    StoreOnboarding.status == "onboarded",
                )
            )
            or 0
        )


class SenderGroupRepository:
    def __init__(self, session: Session, tenant_id: str) -> None:
        self.session = session
        self.tenant_id = tenant_id

    def get(self, group_id: str) -> SenderGroup | None:
        return self.session.get(SenderGroup, (self.tenant_id, group_id))

    def add(self, group: SenderGroup) -> SenderGroup:
        group.tenant_id = self.tenant_id
        self.session.add(group)
        self.session.flush()
        return group

    def all(self) -> list[SenderGroup]:
        return list(
            self.session.scalars(
                select(SenderGroup)
                .where(SenderGroup.tenant_id == self.tenant_id)
                .order_by(SenderGroup.id)
            )
        )

    def pending(self) -> list[SenderGroup]:
        """Groups claimed whose Messaging Service was never recorded (a crash, or a failure)."""
        return list(
            self.session.scalars(
                select(SenderGroup).where(
                    SenderGroup.tenant_id == self.tenant_id,
                    SenderGroup.messaging_service_sid.is_(None),
                )
            )
        )
