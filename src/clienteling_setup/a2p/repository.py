"""The business profile (its sensitive part encrypted at this storage boundary, so services
see plain values and the database never does), the registration and its campaigns."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from clienteling_setup.a2p.models import A2PCampaignRecord, A2PRegistration, BusinessProfile
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db.repository import TenantScopedRepository
from clienteling_setup.onboarding.models import StoreOnboarding
from clienteling_setup.stores.models import Store


class BusinessProfileRepository(TenantScopedRepository[BusinessProfile]):
    model = BusinessProfile

    def __init__(self, session: Session, tenant_id: str, secrets: SecretBox) -> None:
        super().__init__(session, tenant_id)
        self._secrets = secrets

    def current(self) -> BusinessProfile | None:
        return self.get()

    def put(self, details: dict[str, Any], sensitive: dict[str, Any]) -> BusinessProfile:
        """Store the profile; its version grows when anything in it changed."""
        encrypted = self._secrets.encrypt(json.dumps(sensitive, sort_keys=True))
        row = self.get()
        if row is None:
            row = BusinessProfile(details=details, secrets_encrypted=encrypted, version=1)
            return self.add(row)
        if row.details != details or self.sensitive(row) != sensitive:
            row.details = details
            row.secrets_encrypted = encrypted
            row.version += 1
        return row

    def sensitive(self, row: BusinessProfile) -> dict[str, Any]:
        value = json.loads(self._secrets.decrypt(row.secrets_encrypted))
        assert isinstance(value, dict)
        return value


class A2PRegistrationRepository(TenantScopedRepository[A2PRegistration]):
    model = A2PRegistration

    def current(self) -> A2PRegistration | None:
        return self.get()


class A2PCampaignRepository(TenantScopedRepository[A2PCampaignRecord]):
    model = A2PCampaignRecord

    def all(self) -> list[A2PCampaignRecord]:
        return self._all()

    def store_ids_on(self, messaging_service_sid: str) -> list[str]:
        """The stores onboarded (or onboarding) on this Messaging Service: their status
        entries show its campaign's state."""
        query = select(StoreOnboarding.store_id).where(
            StoreOnboarding.tenant_id == self.tenant_id,
            StoreOnboarding.messaging_service_sid == messaging_service_sid,
        )
        return list(self.session.scalars(query))

    def count_unregistered_us_stores(self) -> int:
        """Onboarded US stores whose Messaging Service has no VERIFIED campaign: carriers
        block their texts, so the tenant is not onboarded while there is one."""
        verified = exists().where(
            A2PCampaignRecord.tenant_id == StoreOnboarding.tenant_id,
            A2PCampaignRecord.messaging_service_sid == StoreOnboarding.messaging_service_sid,
            A2PCampaignRecord.status == "VERIFIED",
        )
        query = (
            select(func.count())
            .select_from(StoreOnboarding)
            .join(
                Store,
                (Store.tenant_id == StoreOnboarding.tenant_id)
                & (Store.id == StoreOnboarding.store_id),
            )
            .where(
                StoreOnboarding.tenant_id == self.tenant_id,
                StoreOnboarding.status == "onboarded",
                Store.country_code == "US",
                ~verified,
            )
        )
        return int(self.session.scalar(query) or 0)
