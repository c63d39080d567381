"""The unit of work: one transaction, with the repositories a use case reads and writes.

    with uows.of(tenant_id) as uow:
        store = uow.stores.require(store_id)
        ...

The block commits when it ends normally and rolls back when it raises. Every repository it
exposes is scoped to the tenant it was opened for, so a use case cannot read or write another
tenant's rows by forgetting a filter. `uows.platform()` opens one without a tenant, for the few
cross-tenant reads (reconciliation's tenant list, a callback's account lookup).

The rule that keeps money safe: a unit of work is never open across a Twilio call. Workflows
(`workflow.core`) open one per step, so each step's outcome is committed before the next call.

This module is the one declared meeting point of the capabilities' repositories (see the
import-linter contracts in pyproject.toml): a service reaches another capability's rows only
through it, never by importing that capability's service.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup.a2p.repository import (
    A2PCampaignRepository,
    A2PRegistrationRepository,
    BusinessProfileRepository,
)
from clienteling_setup.compliance.repository import ComplianceRepository, RequirementRepository
from clienteling_setup.crypto import SecretBox
from clienteling_setup.jobs.repository import (
    JobItemRepository,
    JobQueueRepository,
    OnboardingJobRepository,
)
from clienteling_setup.ledger.repository import LedgerRepository
from clienteling_setup.numbers.repository import (
    NumberClaimRepository,
    NumberReleaseRepository,
    OwnedNumberRepository,
)
from clienteling_setup.offboarding.repository import OffboardingRepository
from clienteling_setup.onboarding.repository import OnboardingRepository, SenderGroupRepository
from clienteling_setup.orphans.repository import OrphanRepository
from clienteling_setup.stores.repository import StoreRepository
from clienteling_setup.tenants.repository import PlatformTenantRepository, TenantRepository
from clienteling_setup.whatsapp.repository import SenderRepository


class _Transaction:
    """Commits when the block ends normally, rolls back when it raises, always closes."""

    session: Session

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.session.commit()
            else:
                self.session.rollback()
        finally:
            self.session.close()

    def flush(self) -> None:
        """Send pending writes now (a unique constraint fails here, inside the block)."""
        self.session.flush()


class UnitOfWork(_Transaction):
    """Tenant-scoped repositories over one session; see the module docstring."""

    tenants: TenantRepository
    stores: StoreRepository
    onboardings: OnboardingRepository
    groups: SenderGroupRepository
    senders: SenderRepository
    numbers: NumberClaimRepository
    owned_numbers: OwnedNumberRepository
    number_releases: NumberReleaseRepository
    orphans: OrphanRepository
    offboardings: OffboardingRepository
    compliance: ComplianceRepository
    requirements: RequirementRepository
    ledger: LedgerRepository
    jobs: OnboardingJobRepository
    job_items: JobItemRepository
    business_profiles: BusinessProfileRepository
    a2p: A2PRegistrationRepository
    a2p_campaigns: A2PCampaignRepository

    def __init__(self, sessions: sessionmaker[Session], secrets: SecretBox, tenant_id: str):
        self._sessions = sessions
        self._secrets = secrets
        self.tenant_id = tenant_id

    def __enter__(self) -> Self:
        self.session = session = self._sessions()
        tenant = self.tenant_id
        self.tenants = TenantRepository(session, tenant, self._secrets)
        self.stores = StoreRepository(session, tenant)
        self.onboardings = OnboardingRepository(session, tenant)
        self.groups = SenderGroupRepository(session, tenant)
        self.senders = SenderRepository(session, tenant)
        self.numbers = NumberClaimRepository(session, tenant)
        self.owned_numbers = OwnedNumberRepository(session, tenant)
        self.number_releases = NumberReleaseRepository(session, tenant)
        self.orphans = OrphanRepository(session, tenant)
        self.offboardings = OffboardingRepository(session, tenant)
        self.compliance = ComplianceRepository(session, tenant)
        self.requirements = RequirementRepository(session)
        self.ledger = LedgerRepository(session, tenant)
        self.jobs = OnboardingJobRepository(session, tenant)
        self.job_items = JobItemRepository(session, tenant)
        self.business_profiles = BusinessProfileRepository(session, tenant, self._secrets)
        self.a2p = A2PRegistrationRepository(session, tenant)
        self.a2p_campaigns = A2PCampaignRepository(session, tenant)
        return self


class PlatformUnitOfWork(_Transaction):
    """The cross-tenant repositories: tenants by account, the tenant list, regulations."""

    tenants: PlatformTenantRepository
    requirements: RequirementRepository
    job_queue: JobQueueRepository

    def __init__(self, sessions: sessionmaker[Session], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    def __enter__(self) -> Self:
        self.session = session = self._sessions()
        self.tenants = PlatformTenantRepository(session, self._secrets)
        self.requirements = RequirementRepository(session)
        self.job_queue = JobQueueRepository(session)
        return self


class UnitsOfWork:
    """The factory services receive: `of(tenant)` for a use case, `platform()` across tenants."""

    def __init__(
        self, sessions: sessionmaker[Session], secrets: SecretBox, *, lease_timeout: float = 10.0
    ) -> None:
        self.sessions = sessions
        self.secrets = secrets
        #: Seconds a workflow lease's heartbeat may be silent before another worker takes it
        #: over (the `lease_heartbeat_timeout_seconds` setting; see `workflow.leases`).
        self.lease_timeout = lease_timeout

    def of(self, tenant_id: str) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.secrets, tenant_id)

    def platform(self) -> PlatformUnitOfWork:
        return PlatformUnitOfWork(self.sessions, self.secrets)
