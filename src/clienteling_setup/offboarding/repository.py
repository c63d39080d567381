from __future__ import annotations

from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.offboarding.models import IN_PROGRESS, StoreOffboarding


class OffboardingRepository(TenantScopedRepository[StoreOffboarding]):
    """Stores' offboardings: the latest one of each store, under way or finished."""

    model = StoreOffboarding

    def in_progress(self, store_id: str) -> StoreOffboarding | None:
        row = self.get(store_id)
        return row if row is not None and row.status == IN_PROGRESS else None

    def unfinished(self) -> list[StoreOffboarding]:
        return self._all(StoreOffboarding.status == IN_PROGRESS)
