"""Tenant configuration: enabling (the first workflow that spends in Twilio), the opt-in
template, and the moment a tenant first counts as onboarded."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from clienteling_setup import errors
from clienteling_setup.db.base import utcnow
from clienteling_setup.providers.messaging import (
    AccountCredentials,
    MessagingGateway,
    ProviderError,
)
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.tenants.provisioning import VOICE_WEBHOOK_PATH, provision
from clienteling_setup.tenants.schemas import ConfigurationCreate, ConfigurationUpdate
from clienteling_setup.unit_of_work import UnitOfWork, UnitsOfWork
from clienteling_setup.workflow.core import exclusive

#: Called once a tenant is enabled, with its account (the composition root passes the first
#: compliance sync, which lives above this package).
AfterEnable = Callable[[str, AccountCredentials], None]


def enable(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    public_base_url: str,
    tenant_id: str,
    body: ConfigurationCreate,
    *,
    after: AfterEnable | None = None,
) -> Tenant:
    """Provision Twilio, then commit the configuration. Safe to retry and to race: the lease
    lets one request provision at a time, and each provisioning step adopts what an earlier
    attempt created (its claim is the tenant's name, from which every resource is named)."""
    conflict = errors.Conflict(
        f"Clienteling is already configured for tenant '{tenant_id}'. "
        "Use PATCH /clienteling/configuration to change it."
    )
    busy = errors.Conflict(
        f"Clienteling is being enabled for tenant '{tenant_id}' by another request. "
        "Retry in a few seconds."
    )
    with uows.of(tenant_id) as uow:
        if uow.tenants.get() is not None:
            uow.tenants.require_open()  # being disabled: say so
            raise conflict
    with exclusive(uows, f"enable:{tenant_id}", busy=busy, lost=busy) as run:
        with uows.of(tenant_id) as uow:
            if uow.tenants.get() is not None:
                raise conflict
        voice_url = f"{public_base_url.rstrip('/')}{VOICE_WEBHOOK_PATH}"
        try:
            provisioned = run.step(lambda: provision(gateway, tenant_id, voice_url))
        except ProviderError as exc:
            raise errors.from_provider(exc, "Provisioning the tenant's Twilio account") from exc
        with uows.of(tenant_id) as uow:
            tenant = uow.tenants.add(
                Tenant(
                    ecom_link=body.ecom_link,
                    subaccount_sid=provisioned.subaccount.sid,
                    subaccount_status=provisioned.subaccount.status,
                    messaging_service_sid=provisioned.messaging_service_sid,
                    voice_app_sid=provisioned.voice_app_sid,
                    voice_app_name=provisioned.voice_app_name,
                ),
                provisioned.subaccount.auth_token,
            )
            uow.tenants.forget_disabling()  # enabled afresh: the last disabling is history
            uow.tenants.forget_reconciled()  # and its Twilio state is not read yet
            account = uow.tenants.account(tenant)
    if after is not None:
        after(tenant_id, account)
    return tenant


def get_configuration(uows: UnitsOfWork, tenant_id: str) -> Tenant:
    with uows.of(tenant_id) as uow:
        return _configured(uow)


def _configured(uow: UnitOfWork) -> Tenant:
    tenant = uow.tenants.get()
    if tenant is None:
        raise errors.NotFound(
            f"Clienteling is not configured for tenant '{uow.tenant_id}'. "
            "Create it with POST /clienteling/configuration."
        )
    return tenant


def update_configuration(uows: UnitsOfWork, tenant_id: str, body: ConfigurationUpdate) -> Tenant:
    with uows.of(tenant_id) as uow:
        tenant = _configured(uow)
        if body.ecom_link is not None:
            tenant.ecom_link = body.ecom_link
        tenant.updated_at = utcnow()
        return tenant


def put_opt_in(uows: UnitsOfWork, tenant_id: str, body: str) -> tuple[OptInTemplate, bool]:
    with uows.of(tenant_id) as uow:
        template = uow.tenants.opt_in()
        created = template is None
        if template is None:
            template = uow.tenants.add_opt_in(
                OptInTemplate(id=f"optin_{uuid.uuid4().hex[:16]}", body=body)
            )
        else:
            template.body = body
            template.updated_at = utcnow()
        uow.flush()
        mark_onboarded_if_ready(uow)
        return template, created


def get_opt_in(uows: UnitsOfWork, tenant_id: str) -> OptInTemplate:
    with uows.of(tenant_id) as uow:
        template = uow.tenants.opt_in()
    if template is None:
        raise errors.NotFound(
            "No opt-in template exists yet. Create it with PUT /clienteling/opt-in-template."
        )
    return template


def mark_onboarded_if_ready(uow: UnitOfWork) -> None:
    """Record the moment the tenant first became onboarded (a store onboarded, and every
    onboarded store can send: a US store only once its Messaging Service has a verified A2P
    10DLC campaign); it never moves afterwards."""
    tenant = uow.tenants.get()
    if tenant is None or tenant.onboarded_at is not None:
        return
    if tenant.subaccount_status != "active" or uow.tenants.opt_in() is None:
        return
    if uow.onboardings.count_onboarded() == 0:
        return
    if uow.a2p_campaigns.count_unregistered_us_stores() == 0:
        tenant.onboarded_at = utcnow()
