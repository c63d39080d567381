"""The emulated Twilio world: accounts and everything they own, the clock and the number pools.

`World` keeps the records of `models.py` under one re-entrant lock (`lock`): tests call the
emulator from their own thread while the server thread answers the SDK, and whoever reads or
changes records holds it. `compliance.py`, `senders.py` and `seed.py` build and change records in
a world; `EmulatorState` (`state.py`) is a world plus what serves the emulator's users: faults,
the request log, added latency, status callback delivery and the controls tests call.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

from .countries import COUNTRIES
from .isv import seed_primary_customer_profile
from .journal import CommitLock
from .models import (
    Account,
    Address,
    Application,
    BrandRegistration,
    BrandVetting,
    Bundle,
    Callback,
    Campaign,
    EndUser,
    Evaluation,
    IncomingNumber,
    ItemAssignment,
    MessagingService,
    Owned,
    Regulation,
    Sender,
    ServiceNumber,
    SupportingDocument,
)
from .numbers import AvailableNumber, generate_pool
from .regulations import all_regulations

DEFAULT_MASTER_SID = "AC" + "0" * 31 + "1"

R = TypeVar("R", bound=Owned)


@lru_cache(maxsize=16)
def _pools(seed: int, scale: int = 1) -> dict[tuple[str, str], tuple[AvailableNumber, ...]]:
    return {
        (iso, number_type): tuple(generate_pool(seed, iso, number_type, scale))
        for iso, rules in COUNTRIES.items()
        for number_type in rules.types
    }


class World:
    """The records of the emulated Twilio, the emulator clock and the callbacks delivered."""

    def __init__(
        self,
        master_account_sid: str | None = None,
        master_auth_token: str | None = None,
        seed: int = 1,
        *,
        pool_scale: int = 1,
    ) -> None:
        self.seed = seed
        self.pool_scale = pool_scale  # multiplies the available-number pool (benchmarks)
        self.master_account_sid = master_account_sid or DEFAULT_MASTER_SID
        self.master_auth_token = (
            master_auth_token or hashlib.sha256(f"master-token:{seed}".encode()).hexdigest()[:32]
        )
        # A persistent world's is a `journal.CommitLock` (see `persistence.WorldStore`).
        self.lock: threading.RLock | CommitLock = threading.RLock()
        # Sender lifecycle timings (emulator-clock seconds) and the callback HTTP timeout.
        self.sender_creating_seconds = 30.0
        self.sender_verifying_seconds = 30.0
        self.sender_updating_seconds = 30.0
        self.callback_timeout = 5.0
        # A2P 10DLC review timings (emulator-clock seconds): a submitted customer profile or
        # trust product, a brand, a campaign.
        self.a2p_profile_review_seconds = 60.0
        self.brand_review_seconds = 60.0
        self.campaign_review_seconds = 120.0
        # False: auth tokens follow from the seed (reproducible tests); True: random, for a world
        # whose tokens protect something (the embedded default's).
        self.secret_tokens = False
        self.epoch = datetime.now(UTC).replace(microsecond=0)
        self.reset()

    def reset(self) -> None:
        """Forget everything but the master account (same SID and token)."""
        with self.lock:
            self._counter = 0
            self.clock = 0.0
            # True: status callbacks are recorded as lost instead of sent (Twilio gave up).
            self.drop_callbacks = False
            self.callbacks: list[Callback] = []
            now = self.now()
            master = Account(
                self.master_account_sid,
                self.master_auth_token,
                "Emulator master account",
                self.master_account_sid,
                now,
                now,
            )
            self.accounts: dict[str, Account] = {master.sid: master}
            self.addresses_by_sid: dict[str, Address] = {}
            self.applications_by_sid: dict[str, Application] = {}
            self.numbers_by_sid: dict[str, IncomingNumber] = {}
            self.services_by_sid: dict[str, MessagingService] = {}
            self.service_numbers: dict[tuple[str, str], ServiceNumber] = {}
            self.regulations: dict[str, Regulation] = all_regulations()
            self.bundles_by_sid: dict[str, Bundle] = {}
            self.regulatory_documents: dict[str, SupportingDocument] = {}
            self.item_assignments: dict[str, ItemAssignment] = {}
            self.evaluations: dict[str, Evaluation] = {}
            self.trust_products_by_sid: dict[str, Bundle] = {}
            self.trust_documents: dict[str, SupportingDocument] = {}
            self.entity_assignments: dict[str, ItemAssignment] = {}
            self.customer_profiles_by_sid: dict[str, Bundle] = {}
            self.end_users_by_sid: dict[str, EndUser] = {}
            self.brands_by_sid: dict[str, BrandRegistration] = {}
            self.vettings_by_sid: dict[str, BrandVetting] = {}
            self.campaigns_by_sid: dict[str, Campaign] = {}
            self.senders_by_sid: dict[str, Sender] = {}
            self.bad_wabas: dict[str, str] = {}
            self.unavailable_numbers: set[str] = set()
            seed_primary_customer_profile(self)

    # ------------------------------------------------------------------ persistence
    #: What survives a restart (not faults, logs or test switches), written as it changes by
    #: `persistence.WorldStore`: the dicts of records, then the other values.
    TABLES = (
        "accounts", "addresses_by_sid", "applications_by_sid", "numbers_by_sid",
        "services_by_sid", "service_numbers", "regulations", "bundles_by_sid",
        "regulatory_documents", "item_assignments", "evaluations", "trust_products_by_sid",
        "trust_documents", "entity_assignments", "senders_by_sid", "customer_profiles_by_sid",
        "end_users_by_sid", "brands_by_sid", "vettings_by_sid", "campaigns_by_sid",
    )  # fmt: skip
    VALUES = ("_counter", "clock", "epoch", "bad_wabas", "unavailable_numbers")

    # ------------------------------------------------------------------ clock and SIDs
    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.clock)

    def new_sid(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            digest = hashlib.md5(f"{self.seed}:{prefix}:{self._counter}".encode()).hexdigest()
            return prefix + digest

    def new_token(self) -> str:
        if self.secret_tokens:
            return secrets.token_hex(16)
        return self.new_sid("tk")[2:]

    # ------------------------------------------------------------------ accounts
    def authenticate(self, username: str, password: str) -> Account | None:
        with self.lock:
            account = self.accounts.get(username)
            if account is None or account.auth_token != password or account.status == "closed":
                return None
            return account

    def account(self, sid: str) -> Account | None:
        with self.lock:
            return self.accounts.get(sid)

    def subaccounts(self) -> list[Account]:
        with self.lock:
            return [a for a in self.accounts.values() if a.is_subaccount]

    # ------------------------------------------------------------------ what an account owns
    def _owned_by(self, records: Mapping[Any, R], account_sid: str) -> list[R]:
        with self.lock:
            return [r for r in records.values() if r.account_sid == account_sid]

    def owned_numbers(self, account_sid: str) -> list[IncomingNumber]:
        return self._owned_by(self.numbers_by_sid, account_sid)

    def messaging_services(self, account_sid: str) -> list[MessagingService]:
        return self._owned_by(self.services_by_sid, account_sid)

    def applications(self, account_sid: str) -> list[Application]:
        return self._owned_by(self.applications_by_sid, account_sid)

    def addresses(self, account_sid: str) -> list[Address]:
        return self._owned_by(self.addresses_by_sid, account_sid)

    def bundles(self, account_sid: str) -> list[Bundle]:
        return self._owned_by(self.bundles_by_sid, account_sid)

    def trust_products(self, account_sid: str) -> list[Bundle]:
        return self._owned_by(self.trust_products_by_sid, account_sid)

    def customer_profiles(self, account_sid: str) -> list[Bundle]:
        return self._owned_by(self.customer_profiles_by_sid, account_sid)

    def end_users(self, account_sid: str) -> list[EndUser]:
        return self._owned_by(self.end_users_by_sid, account_sid)

    def brands(self, account_sid: str) -> list[BrandRegistration]:
        return self._owned_by(self.brands_by_sid, account_sid)

    def campaigns(self, account_sid: str) -> list[Campaign]:
        return self._owned_by(self.campaigns_by_sid, account_sid)

    def senders(self, account_sid: str | None = None) -> list[Sender]:
        """The senders of an account, or of every account."""
        with self.lock:
            if account_sid is None:
                return list(self.senders_by_sid.values())
            return self._owned_by(self.senders_by_sid, account_sid)

    def messaging_service_numbers(self, service_sid: str) -> list[ServiceNumber]:
        with self.lock:
            return [n for (s, _), n in self.service_numbers.items() if s == service_sid]

    def number_owner(self, phone_number: str) -> IncomingNumber | None:
        with self.lock:
            for number in self.numbers_by_sid.values():
                if number.phone_number == phone_number:
                    return number
            return None

    # ------------------------------------------------------------------ available numbers
    def pool(self, iso_country: str, number_type: str) -> list[AvailableNumber]:
        """The numbers still for sale in a country and type (purchased ones have left)."""
        with self.lock:
            taken = {n.phone_number for n in self.numbers_by_sid.values()}
            taken |= self.unavailable_numbers
            return [
                n
                for n in _pools(self.seed, self.pool_scale).get((iso_country, number_type), ())
                if n.phone_number not in taken
            ]

    def find_available(self, phone_number: str) -> AvailableNumber | None:
        """The pool entry for a number nobody owns, else None."""
        with self.lock:
            if phone_number in self.unavailable_numbers or self.number_owner(phone_number):
                return None
            for pool in _pools(self.seed, self.pool_scale).values():
                for number in pool:
                    if number.phone_number == phone_number:
                        return number
            return None
