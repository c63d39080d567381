"""What a job does for a store: the country's bundle and address, and a number near the store.

Both come from the same list operations as the API's lists (`compliance.lists.TenantLists`,
behind the same short cache), so a job picks what a person would pick from those lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from clienteling_setup import errors
from clienteling_setup.compliance.lists import TenantLists
from clienteling_setup.compliance.requirements import bundle_required, require_supported
from clienteling_setup.providers.messaging import NumberType

#: A number is picked at random among the first few free ones, so that workers onboarding
#: stores of one place at once rarely reach for the same number.
PICK_AMONG = 8


@dataclass(frozen=True)
class CountryPlan:
    """How the stores of one country are bought: with this bundle and address (or none), or
    not at all, for the `problem` given."""

    country: str
    number_type: NumberType | None
    bundle_sid: str | None = None
    address_sid: str | None = None
    problem: str | None = None


def plan_country(lists: TenantLists, country: str, store_id: str) -> CountryPlan:
    """The plan of `country` (`store_id` is one of its stores: the lists are per store).
    A regulated country needs exactly one approved bundle with an address for its SMS number
    type; with none, or several to choose from, its stores fail with the reason."""
    try:
        number_type: NumberType = require_supported(country).sms_number_type or "local"
    except errors.BadRequest as exc:
        return CountryPlan(country, None, problem=exc.message)
    with lists.uows.of(lists.tenant_id) as uow:
        needs_bundle = bundle_required(country, uow.requirements)
    if not needs_bundle:
        return CountryPlan(country, number_type)
    fitting = [
        listed
        for listed in lists.regulatory_bundles(store_id)
        if listed.bundle.status == "twilio-approved"
        and listed.address_sid is not None
        and listed.bundle.number_type in (None, number_type)
    ]
    if len(fitting) == 1:
        only = fitting[0]
        return CountryPlan(country, number_type, only.bundle.sid, only.address_sid)
    where = f"{country} ({number_type} numbers)"
    if not fitting:
        return CountryPlan(
            country,
            number_type,
            problem=f"No approved regulatory bundle with an address fits {where}: Twilio "
            f"sells numbers there only with one. See GET /clienteling/stores/{store_id}/"
            "regulatory-bundles and the country's actions in the onboarding status.",
        )
    sids = ", ".join(sorted(listed.bundle.sid for listed in fitting))
    return CountryPlan(
        country,
        number_type,
        problem=f"{len(fitting)} approved regulatory bundles fit {where} ({sids}), and the "
        "job does not choose between them. Onboard these stores one by one with "
        "POST /clienteling/stores/{store_id}/onboard naming bundle_sid and address_sid.",
    )


def pick_number(lists: TenantLists, store_id: str, avoid: set[str]) -> str | None:
    """A number near the store that no store of the tenant claimed and that is not in
    `avoid` (numbers this store already lost); None when Twilio offers none."""
    for fresh in (False, True):
        offer = lists.available_numbers(store_id, fresh=fresh)
        free = [n.phone_number for n in offer.numbers if n.phone_number not in avoid]
        if free:
            return random.choice(free[:PICK_AMONG])  # noqa: S311 - spreading, not secrecy
    return None
