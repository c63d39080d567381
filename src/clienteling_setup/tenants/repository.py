"""Tenants and their opt-in templates. The Twilio subaccount token is encrypted here, at the
storage boundary, so services only ever see `AccountCredentials`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from clienteling_setup import errors
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db.repository import TenantScoped
from clienteling_setup.providers.messaging import AccountCredentials
from clienteling_setup.tenants.models import (
    OptInTemplate,
    Reconciliation,
    Tenant,
    TenantDisabling,
)


class TenantRepository(TenantScoped):
    def __init__(self, session: Session, tenant_id: str, secrets: SecretBox) -> None:
        super().__init__(session, tenant_id)
        self._secrets = secrets

    def get(self) -> Tenant | None:
        return self.session.get(Tenant, self.tenant_id)

    def require(self) -> Tenant:
        """The tenant's configuration, or the 400 that says to enable clienteling first."""
        tenant = self.get()
        if tenant is None:
            raise errors.BadRequest(
                f"Clienteling is not enabled for tenant '{self.tenant_id}'. "
                "Enable it first with POST /clienteling/configuration."
            )
        return tenant

    def require_open(self) -> Tenant:
        """`require`, and a 409 while the retailer is being disabled: nothing new may start in
        an account that is being taken down."""
        tenant = self.require()
        disabling = self.disabling()
        if disabling is not None and disabling.status == "in_progress":
            raise errors.Conflict(
                f"Clienteling is being disabled for tenant '{self.tenant_id}' (see "
                "'disabling' in GET /clienteling/onboarding-status). Enable it again with "
                "POST /clienteling/configuration once that is finished."
            )
        return tenant

    def disabling(self) -> TenantDisabling | None:
        return self.session.get(TenantDisabling, self.tenant_id)

    def add_disabling(self, row: TenantDisabling) -> TenantDisabling:
        row.tenant_id = self.tenant_id
        self.session.add(row)
        self.session.flush()
        return row

    def forget(self, tenant: Tenant) -> None:
        """Delete the configuration (its subaccount is closed); the opt-in template stays."""
        self.session.delete(tenant)

    def forget_disabling(self) -> None:
        row = self.disabling()
        if row is not None:
            self.session.delete(row)

    def add(self, tenant: Tenant, auth_token: str) -> Tenant:
        tenant.id = self.tenant_id
        tenant.auth_token_encrypted = self._secrets.encrypt(auth_token)
        self.session.add(tenant)
        return tenant

    def account(self, tenant: Tenant) -> AccountCredentials:
        return account_of(tenant, self._secrets)

    def enabled_account(self) -> AccountCredentials | None:
        """The tenant's subaccount, or None when clienteling is not enabled (for background
        work that has nothing to do then)."""
        tenant = self.get()
        return self.account(tenant) if tenant is not None else None

    def opt_in(self) -> OptInTemplate | None:
        return self.session.get(OptInTemplate, self.tenant_id)

    def add_opt_in(self, template: OptInTemplate) -> OptInTemplate:
        template.tenant_id = self.tenant_id
        self.session.add(template)
        return template

    def record_reconciled(self, at: datetime) -> None:
        """Reconciliation finished a pass over the tenant that began at `at` (runs hold the
        tenant's lease)."""
        self.session.merge(Reconciliation(tenant_id=self.tenant_id, succeeded_at=at))

    def forget_reconciled(self) -> None:
        """A tenant enabled afresh has not been reconciled yet, whatever its predecessor was."""
        row = self.session.get(Reconciliation, self.tenant_id)
        if row is not None:
            self.session.delete(row)

    def last_reconciled(self) -> datetime | None:
        """When the tenant's last successful reconciliation pass began."""
        row = self.session.get(Reconciliation, self.tenant_id)
        return row.succeeded_at if row is not None else None


class PlatformTenantRepository:
    """The few reads across tenants: the tenant list and a callback's account lookup."""

    def __init__(self, session: Session, secrets: SecretBox) -> None:
        self.session = session
        self._secrets = secrets

    def ids(self) -> list[str]:
        return list(self.session.scalars(select(Tenant.id).order_by(Tenant.id)))

    def by_account_sid(self, account_sid: str) -> Tenant | None:
        return self.session.scalar(select(Tenant).where(Tenant.subaccount_sid == account_sid))

    def first_active(self, among: list[str]) -> Tenant | None:
        return self.session.scalar(
            select(Tenant)
            .where(Tenant.id.in_(among), Tenant.subaccount_status == "active")
            .order_by(Tenant.id)
            .limit(1)
        )

    def account(self, tenant: Tenant) -> AccountCredentials:
        return account_of(tenant, self._secrets)

    def last_reconciled(self) -> list[tuple[str, datetime]]:
        """Each tenant with the time of its last successful reconciliation, or of its enabling
        when it has had none yet."""
        rows = self.session.execute(
            select(Tenant.id, Tenant.created_at, Reconciliation.succeeded_at)
            .outerjoin(Reconciliation, Reconciliation.tenant_id == Tenant.id)
            .order_by(Tenant.id)
        )
        return [(tenant, succeeded or created) for tenant, created, succeeded in rows]

    def auth_token(self, tenant: Tenant) -> str:
        return self._secrets.decrypt(tenant.auth_token_encrypted)


def account_of(tenant: Tenant, secrets: SecretBox) -> AccountCredentials:
    return AccountCredentials(tenant.subaccount_sid, secrets.decrypt(tenant.auth_token_encrypted))
