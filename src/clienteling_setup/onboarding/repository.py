from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from clienteling_setup.onboarding.models import SenderGroup, StoreOnboarding


def get_onboarding(session: Session, tenant_id: str, store_id: str) -> StoreOnboarding | None:
    return session.get(StoreOnboarding, (tenant_id, store_id))


def onboarding_by_number(
    session: Session, tenant_id: str, phone_number: str
) -> StoreOnboarding | None:
    return session.scalar(
        select(StoreOnboarding).where(
            StoreOnboarding.tenant_id == tenant_id, StoreOnboarding.phone_number == phone_number
        )
    )


def unfinished_onboardings(session: Session, tenant_id: str) -> list[StoreOnboarding]:
    return list(
        session.scalars(
            select(StoreOnboarding).where(
                StoreOnboarding.tenant_id == tenant_id, StoreOnboarding.status != "onboarded"
            )
        )
    )


def delete_claim(session: Session, tenant_id: str, store_id: str, phone_number: str) -> None:
    session.execute(
        delete(StoreOnboarding).where(
            StoreOnboarding.tenant_id == tenant_id,
            StoreOnboarding.store_id == store_id,
            StoreOnboarding.phone_number == phone_number,
            StoreOnboarding.status != "onboarded",
        )
    )


def count_onboarded_stores(session: Session, tenant_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(StoreOnboarding)
            .where(StoreOnboarding.tenant_id == tenant_id, StoreOnboarding.status == "onboarded")
        )
        or 0
    )


def get_group(session: Session, tenant_id: str, group_id: str) -> SenderGroup | None:
    return session.get(SenderGroup, (tenant_id, group_id))


def list_groups(session: Session, tenant_id: str) -> list[SenderGroup]:
    return list(
        session.scalars(
            select(SenderGroup).where(SenderGroup.tenant_id == tenant_id).order_by(SenderGroup.id)
        )
    )
