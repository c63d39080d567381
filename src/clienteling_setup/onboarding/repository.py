from __future__ import annotations

from sqlalchemy import and_, delete, select

from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding
from clienteling_setup.stores.models import Store


class OnboardingRepository(TenantScopedRepository[StoreOnboarding]):
    """Stores' SMS onboardings (the claim row and how far its steps got)."""

    model = StoreOnboarding

    def by_number(self, phone_number: str) -> StoreOnboarding | None:
        return self._one(StoreOnboarding.phone_number == phone_number)

    def unfinished(self) -> list[StoreOnboarding]:
        return self._all(StoreOnboarding.status != "onboarded")

    def delete_unfinished(self, store_id: str, phone_number: str) -> bool:
        """Delete the store's claim on `phone_number` unless it is onboarded."""
        deleted = self.session.execute(
            delete(StoreOnboarding).where(
                self._mine(
                    StoreOnboarding.store_id == store_id,
                    StoreOnboarding.phone_number == phone_number,
                    StoreOnboarding.status != "onboarded",
                )
            )
        )
        return bool(deleted.rowcount)  # type: ignore[attr-defined]

    def store_ids(self) -> list[str]:
        query = select(StoreOnboarding.store_id).where(self._mine())
        return list(self.session.scalars(query))

    def count_onboarded(self) -> int:
        return self._count(StoreOnboarding.status == "onboarded")

    def store_countries(self) -> dict[str, str]:
        """The directory's country of every store with an SMS onboarding (under way or done):
        the country its number belongs to. One query, whatever the size of the directory."""
        query = (
            select(Store.id, Store.country_code)
            .join(
                StoreOnboarding,
                and_(
                    StoreOnboarding.tenant_id == Store.tenant_id,
                    StoreOnboarding.store_id == Store.id,
                ),
            )
            .where(Store.tenant_id == self.tenant_id)
        )
        return {store_id: cc for store_id, cc in self.session.execute(query)}


class SenderGroupRepository(TenantScopedRepository[SenderGroup]):
    model = SenderGroup

    def add(self, row: SenderGroup) -> SenderGroup:
        super().add(row)
        self.session.flush()
        return row

    def all(self) -> list[SenderGroup]:
        return list(self.session.scalars(self._select().order_by(SenderGroup.id)))

    def pending(self) -> list[SenderGroup]:
        """Groups claimed whose Messaging Service was never recorded (a crash, or a failure)."""
        return self._all(SenderGroup.messaging_service_sid.is_(None))
