"""The ISV's own Primary Customer Profile in the emulator's master account.

Apart from `a2p` so that `world` can seed it without importing `a2p` (which names `World`):
the emulator's modules form a DAG (tests/integration/test_emulator_package.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol

from .models import Bundle

#: Twilio's policy of a primary customer profile (the ISV's own).
PRIMARY_CUSTOMER_PROFILE = "RN806dd6cd175f314e1f96a9727ee271f4"


class _Holder(Protocol):
    master_account_sid: str
    customer_profiles_by_sid: dict[str, Bundle]

    def now(self) -> datetime: ...


def primary_customer_profile_sid(master_account_sid: str) -> str:
    """The SID of the approved Primary Customer Profile the emulator seeds in its master
    account (the ISV's own, see `seed_primary_customer_profile`): derived from the master
    account's SID, so a service pointed at the emulator knows it without asking."""
    digest = hashlib.md5(f"{master_account_sid}:primary-customer-profile".encode()).hexdigest()
    return "BU" + digest


def seed_primary_customer_profile(world: _Holder) -> Bundle:
    """The master account's approved Primary Customer Profile (made once: a world loaded
    from a file written before it existed gets it too). Twilio's ISV guide has the ISV register
    and get approved its own before onboarding secondary customers, each of whose profiles is
    then assigned it."""
    sid = primary_customer_profile_sid(world.master_account_sid)
    found = world.customer_profiles_by_sid.get(sid)
    if found is not None:
        return found
    now = world.now()
    bundle = Bundle(
        sid=sid,
        account_sid=world.master_account_sid,
        regulation_sid=PRIMARY_CUSTOMER_PROFILE,
        friendly_name="Emulator ISV primary customer profile",
        status="twilio-approved",
        email="compliance@isv.example",
        date_created=now,
        date_updated=now,
        iso_country="US",
        valid_until=now.replace(year=now.year + 1),
    )
    world.customer_profiles_by_sid[sid] = bundle
    return bundle
