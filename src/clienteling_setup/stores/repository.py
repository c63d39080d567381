from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clienteling_setup.stores.models import Store


def get_store(session: Session, tenant_id: str, store_id: str) -> Store | None:
    return session.get(Store, (tenant_id, store_id))


def page_stores(
    session: Session, tenant_id: str, *, after: str | None, limit: int, country: str | None
) -> list[Store]:
    query = select(Store).where(Store.tenant_id == tenant_id)
    if after is not None:
        query = query.where(Store.id > after)
    if country is not None:
        query = query.where(Store.country_code == country)
    return list(session.scalars(query.order_by(Store.id).limit(limit)))


def count_stores(session: Session, tenant_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Store).where(Store.tenant_id == tenant_id))
        or 0
    )
