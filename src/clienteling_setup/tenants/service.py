from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from clienteling_setup import errors
from clienteling_setup.db import leases
from clienteling_setup.db.base import utcnow
from clienteling_setup.db.session import transaction
from clienteling_setup.providers.messaging import ProviderError
from clienteling_setup.runtime import Runtime
from clienteling_setup.tenants import repository
from clienteling_setup.tenants.models import OptInTemplate, Tenant
from clienteling_setup.tenants.provisioning import VOICE_WEBHOOK_PATH, provision
from clienteling_setup.tenants.schemas import ConfigurationCreate, ConfigurationUpdate


def require_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise errors.BadRequest(
            f"Clienteling is not enabled for tenant '{tenant_id}'. "
            "Enable it first with POST /clienteling/configuration."
        )
    return tenant


def get_configuration(session: Session, tenant_id: str) -> Tenant:
    tenant = repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise errors.NotFound(
            f"Clienteling is not configured for tenant '{tenant_id}'. "
            "Create it with POST /clienteling/configuration."
        )
    return tenant


def enable(runtime: Runtime, tenant_id: str, body: ConfigurationCreate) -> Tenant:
    """Provision Twilio, then commit the configuration. Safe to retry and to race."""
    conflict = errors.Conflict(
        f"Clienteling is already configured for tenant '{tenant_id}'. "
        "Use PATCH /clienteling/configuration to change it."
    )
    with transaction(runtime.sessions) as session:
        if repository.get_tenant(session, tenant_id) is not None:
            raise conflict
    busy = errors.Conflict(
        f"Clienteling is being enabled for tenant '{tenant_id}' by another request. "
        "Retry in a few seconds."
    )
    with leases.held(runtime.sessions, f"enable:{tenant_id}", 120, busy=busy):
        with transaction(runtime.sessions) as session:
            if repository.get_tenant(session, tenant_id) is not None:
                raise conflict
        try:
            provisioned = provision(
                runtime.gateway, tenant_id, runtime.callback_url(VOICE_WEBHOOK_PATH)
            )
        except ProviderError as exc:
            raise errors.from_provider(exc, "Provisioning the tenant's Twilio account") from exc
        with transaction(runtime.sessions) as session:
            tenant = Tenant(
                id=tenant_id,
                ecom_link=body.ecom_link,
                subaccount_sid=provisioned.subaccount.sid,
                subaccount_status=provisioned.subaccount.status,
                auth_token_encrypted=runtime.secrets.encrypt(provisioned.subaccount.auth_token),
                messaging_service_sid=provisioned.messaging_service_sid,
                voice_app_sid=provisioned.voice_app_sid,
                voice_app_name=provisioned.voice_app_name,
            )
            session.add(tenant)
        return tenant


def update_configuration(session: Session, tenant_id: str, body: ConfigurationUpdate) -> Tenant:
    tenant = get_configuration(session, tenant_id)
    if body.ecom_link is not None:
        tenant.ecom_link = body.ecom_link
    tenant.updated_at = utcnow()
    return tenant


def put_opt_in(session: Session, tenant_id: str, body: str) -> tuple[OptInTemplate, bool]:
    template = repository.get_opt_in(session, tenant_id)
    created = template is None
    if template is None:
        template = OptInTemplate(
            tenant_id=tenant_id, id=f"optin_{uuid.uuid4().hex[:16]}", body=body
        )
        session.add(template)
    else:
        template.body = body
        template.updated_at = utcnow()
    session.flush()
    mark_onboarded_if_ready(session, tenant_id)
    return template, created


def get_opt_in(session: Session, tenant_id: str) -> OptInTemplate:
    template = repository.get_opt_in(session, tenant_id)
    if template is None:
        raise errors.NotFound(
            "No opt-in template exists yet. Create it with PUT /clienteling/opt-in-template."
        )
    return template


def mark_onboarded_if_ready(session: Session, tenant_id: str) -> None:
    """Record the moment the tenant first became onboarded; it never moves afterwards."""
    from clienteling_setup.onboarding.repository import count_onboarded_stores

    tenant = repository.get_tenant(session, tenant_id)
    if tenant is None or tenant.onboarded_at is not None:
        return
    if tenant.subaccount_status != "active" or repository.get_opt_in(session, tenant_id) is None:
        return
    if count_onboarded_stores(session, tenant_id) > 0:
        tenant.onboarded_at = utcnow()
