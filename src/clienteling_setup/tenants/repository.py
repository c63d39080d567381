from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from clienteling_setup.tenants.models import OptInTemplate, Tenant


def get_tenant(session: Session, tenant_id: str) -> Tenant | None:
    return session.get(Tenant, tenant_id)


def get_opt_in(session: Session, tenant_id: str) -> OptInTemplate | None:
    return session.get(OptInTemplate, tenant_id)


def all_tenants(session: Session) -> list[Tenant]:
    return list(session.scalars(select(Tenant).order_by(Tenant.id)))
