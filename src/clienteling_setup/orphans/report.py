"""The command line's side of orphan numbers (`clienteling-setup numbers orphans`): the list in
words, and releasing each through the same service as the API."""

from __future__ import annotations

from clienteling_setup import errors
from clienteling_setup.auth.actor import Actor
from clienteling_setup.orphans.repository import Orphan
from clienteling_setup.orphans.service import list_orphans, refresh_owned_numbers, release_orphan
from clienteling_setup.providers.messaging import MessagingGateway, ProviderError
from clienteling_setup.unit_of_work import UnitsOfWork


def orphan_lines(
    uows: UnitsOfWork,
    gateway: MessagingGateway,
    tenant_id: str,
    *,
    release: bool,
    actor: Actor,
) -> tuple[list[str], int]:
    """Read the account's numbers from Twilio now (as reconciliation does), list the orphans
    and, with `release`, release each. Returns the lines to print and how many failed."""
    with uows.of(tenant_id) as uow:
        account = uow.tenants.account(uow.tenants.require())
    try:
        owned = refresh_owned_numbers(uows, gateway, tenant_id, account)
    except ProviderError as exc:
        raise errors.from_provider(exc, f"Listing the numbers of tenant '{tenant_id}'") from exc
    orphans = list_orphans(uows, tenant_id)
    lines = [f"Tenant '{tenant_id}' owns {owned} number(s); {len(orphans)} orphan(s)."]
    lines += [f"orphan: {_describe(orphan)}" for orphan in orphans]
    failed = 0
    if release:
        for orphan in orphans:
            try:
                release_orphan(uows, gateway, tenant_id, orphan.number_sid, actor=actor)
            except errors.AppError as exc:
                failed += 1
                lines.append(f"failed: {orphan.phone_number} {orphan.number_sid}: {exc.message}")
                continue
            lines.append(f"released: {_describe(orphan)} (no longer paid for)")
    return lines, failed


def _describe(orphan: Orphan) -> str:
    if orphan.monthly_price is not None and orphan.price_unit is not None:
        cost = f"{orphan.monthly_price} {orphan.price_unit}/month"
    else:
        cost = "monthly cost unknown"
    country = orphan.iso_country or "--"
    return f"{orphan.phone_number} {orphan.number_sid} {country} {cost}"
