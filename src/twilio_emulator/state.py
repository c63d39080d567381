"""The emulator's state: accounts and everything they own, the request log, faults and the clock.

All public methods are thread-safe (one re-entrant lock): tests call them from their own thread
while the server thread answers the SDK. Handlers in the ``api_*`` modules work on the same records
under the same lock.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from . import compliance, senders
from .countries import COUNTRIES
from .faults import Fault, FaultKind, FaultRegistry
from .models import (
    Account,
    Address,
    Application,
    Bundle,
    Callback,
    Evaluation,
    IncomingNumber,
    ItemAssignment,
    MessagingService,
    Regulation,
    Sender,
    ServiceNumber,
    SupportingDocument,
)
from .numbers import AvailableNumber, generate_pool

DEFAULT_MASTER_SID = "AC" + "0" * 31 + "1"


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    host: str  # api | messaging | numbers | trusthub
    path: str  # Twilio's path, without the host prefix
    account_sid: str | None  # the authenticated account, None when authentication failed
    params: dict[str, Any]  # query string, form fields or the JSON body
    status: int  # 0 when the connection was dropped
    fault: str | None = None  # the fault kind that hit this request, if any
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@lru_cache(maxsize=16)
def _pools(seed: int, scale: int = 1) -> dict[tuple[str, str], tuple[AvailableNumber, ...]]:
    return {
        (iso, number_type): tuple(generate_pool(seed, iso, number_type, scale))
        for iso, rules in COUNTRIES.items()
        for number_type in rules.types
    }


class _WorldUnpickler(pickle.Unpickler):
    """Reads what `EmulatorState.save` wrote, also before the emulator was a package of its own.

    A world saved then names its records' classes ``<...>.emulator.<module>``; they are the same
    classes, now in this package.
    """

    def find_class(self, module: str, name: str) -> Any:
        parent, _, leaf = module.rpartition(".")
        if parent.endswith(".emulator"):
            module = f"{__package__}.{leaf}"
        return super().find_class(module, name)


class EmulatorState:
    """Everything the emulator knows. See the package docstring for the public API."""

    def __init__(
        self,
        master_account_sid: str | None = None,
        master_auth_token: str | None = None,
        seed: int = 1,
        *,
        seed_subaccounts: bool = True,
        pool_scale: int = 1,
    ) -> None:
        self.seed = seed
        self.pool_scale = pool_scale  # multiplies the available-number pool (benchmarks)
        self.master_account_sid = master_account_sid or DEFAULT_MASTER_SID
        self.master_auth_token = (
            master_auth_token or hashlib.sha256(f"master-token:{seed}".encode()).hexdigest()[:32]
        )
        self.seed_subaccounts = seed_subaccounts
        self.lock = threading.RLock()
        self.latency = 0.0
        self.faults = FaultRegistry(seed)
        # Sender lifecycle timings (emulator-clock seconds) and the callback HTTP timeout.
        self.sender_creating_seconds = 30.0
        self.sender_verifying_seconds = 30.0
        self.sender_updating_seconds = 30.0
        self.callback_timeout = 5.0
        self.epoch = datetime.now(UTC).replace(microsecond=0)
        self.reset()

    # ------------------------------------------------------------------ lifecycle
    def reset(self) -> None:
        """Forget everything but the master account (same SID and token); clear faults and logs."""
        with self.lock:
            self._counter = 0
            self.clock = 0.0
            self.latency = 0.0
            self.faults.clear()
            # True: status callbacks are recorded as lost instead of sent (Twilio gave up).
            self.drop_callbacks = False
            self._requests: list[LoggedRequest] = []
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
            self.regulations: dict[str, Regulation] = compliance.regulations(self.seed)
            self.bundles_by_sid: dict[str, Bundle] = {}
            self.regulatory_documents: dict[str, SupportingDocument] = {}
            self.item_assignments: dict[str, ItemAssignment] = {}
            self.evaluations: dict[str, Evaluation] = {}
            self.trust_products_by_sid: dict[str, Bundle] = {}
            self.trust_documents: dict[str, SupportingDocument] = {}
            self.entity_assignments: dict[str, ItemAssignment] = {}
            self.senders_by_sid: dict[str, Sender] = {}
            self.bad_wabas: dict[str, str] = {}
            self.unavailable_numbers: set[str] = set()

    # ------------------------------------------------------------------ persistence
    #: What survives a restart of the embedded default (not faults, logs or test switches).
    PERSISTED = (
        "_counter", "clock", "epoch", "accounts", "addresses_by_sid", "applications_by_sid",
        "numbers_by_sid", "services_by_sid", "service_numbers", "regulations", "bundles_by_sid",
        "regulatory_documents", "item_assignments", "evaluations", "trust_products_by_sid",
        "trust_documents", "entity_assignments", "senders_by_sid", "bad_wabas",
        "unavailable_numbers",
    )  # fmt: skip

    def save(self, path: Path) -> None:
        """Write the emulated Twilio world to `path` (atomically), for `load` after a restart.

        Pickle, because the world is plain dataclasses; the file lives in the embedded
        default's own data folder, which only its user writes.
        """
        with self.lock:
            data = {name: getattr(self, name) for name in self.PERSISTED}
            blob = pickle.dumps(data)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(blob)
        os.replace(tmp, path)

    def load(self, path: Path) -> bool:
        """Restore what `save` wrote; False (and nothing changed) when there is no file."""
        if not path.exists():
            return False
        with path.open("rb") as file:
            data = _WorldUnpickler(file).load()
        with self.lock:
            for name in self.PERSISTED:
                if name in data:
                    setattr(self, name, data[name])
        return True

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=self.clock)

    def new_sid(self, prefix: str) -> str:
        with self.lock:
            self._counter += 1
            digest = hashlib.md5(f"{self.seed}:{prefix}:{self._counter}".encode()).hexdigest()
            return prefix + digest

    def new_token(self) -> str:
        return self.new_sid("tk")[2:]

    # ------------------------------------------------------------------ accounts
    def authenticate(self, username: str, password: str) -> Account | None:
        with self.lock:
            account = self.accounts.get(username)
            if account is None or account.auth_token != password or account.status == "closed":
                return None
            return account

    def create_subaccount(self, friendly_name: str) -> Account:
        with self.lock:
            now = self.now()
            account = Account(
                self.new_sid("AC"),
                self.new_token(),
                friendly_name,
                self.master_account_sid,
                now,
                now,
            )
            self.accounts[account.sid] = account
            if self.seed_subaccounts:
                from .seed import seed_account

                seed_account(self, account.sid)
            return account

    def subaccounts(self) -> list[Account]:
        with self.lock:
            return [a for a in self.accounts.values() if a.is_subaccount]

    def account(self, sid: str) -> Account | None:
        with self.lock:
            return self.accounts.get(sid)

    def set_account_status(self, account_sid: str, status: str) -> None:
        with self.lock:
            account = self.accounts[account_sid]
            account.status = status
            account.date_updated = self.now()

    # ------------------------------------------------------------------ inspection
    @property
    def requests(self) -> list[LoggedRequest]:
        with self.lock:
            return list(self._requests)

    def log_request(self, entry: LoggedRequest) -> None:
        with self.lock:
            self._requests.append(entry)

    def clear_requests(self) -> None:
        with self.lock:
            self._requests.clear()

    def owned_numbers(self, account_sid: str) -> list[IncomingNumber]:
        with self.lock:
            return [n for n in self.numbers_by_sid.values() if n.account_sid == account_sid]

    def number_owner(self, phone_number: str) -> IncomingNumber | None:
        with self.lock:
            for number in self.numbers_by_sid.values():
                if number.phone_number == phone_number:
                    return number
            return None

    def messaging_services(self, account_sid: str) -> list[MessagingService]:
        with self.lock:
            return [s for s in self.services_by_sid.values() if s.account_sid == account_sid]

    def messaging_service_numbers(self, service_sid: str) -> list[ServiceNumber]:
        with self.lock:
            return [n for (s, _), n in self.service_numbers.items() if s == service_sid]

    def applications(self, account_sid: str) -> list[Application]:
        with self.lock:
            return [a for a in self.applications_by_sid.values() if a.account_sid == account_sid]

    def addresses(self, account_sid: str) -> list[Address]:
        with self.lock:
            return [a for a in self.addresses_by_sid.values() if a.account_sid == account_sid]

    def bundles(self, account_sid: str) -> list[Bundle]:
        with self.lock:
            return [b for b in self.bundles_by_sid.values() if b.account_sid == account_sid]

    def trust_products(self, account_sid: str) -> list[Bundle]:
        with self.lock:
            return [t for t in self.trust_products_by_sid.values() if t.account_sid == account_sid]

    def senders(self, account_sid: str | None = None) -> list[Sender]:
        with self.lock:
            return [
                s
                for s in self.senders_by_sid.values()
                if account_sid is None or s.account_sid == account_sid
            ]

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the state (served at GET /_emulator/state)."""
        from .admin import snapshot

        with self.lock:
            return snapshot(self)

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

    def make_number_unavailable(self, phone_number: str) -> None:
        """Let another (invisible) Twilio customer take a number: buying it then fails (21422)."""
        with self.lock:
            self.unavailable_numbers.add(phone_number)

    # ------------------------------------------------------------------ faults
    def add_fault(
        self,
        method: str | None = None,
        path: str = "",
        kind: FaultKind = "error",
        status: int | None = None,
        code: int | None = None,
        retry_after: float | None = None,
        times: int | None = 1,
        rate: float | None = None,
        delay: float | None = None,
    ) -> Fault:
        """Add a fault rule (see `faults.py`); returns its handle (`.hits`, `.cancel()`)."""
        return self.faults.add(
            kind=kind,
            method=method,
            path=path,
            status=status,
            code=code,
            retry_after=retry_after,
            times=times,
            rate=rate,
            delay=delay,
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    # ------------------------------------------------------------------ compliance helpers
    def add_address(self, account_sid: str, iso_country: str, **fields: Any) -> Address:
        with self.lock:
            return compliance.add_address(self, account_sid, iso_country, **fields)

    def add_bundle(
        self,
        account_sid: str,
        iso_country: str,
        number_type: str,
        status: str = "twilio-approved",
        *,
        address_sid: str | None = None,
        end_user_type: str = "business",
        friendly_name: str | None = None,
        failure_reason: str | None = None,
        status_callback: str | None = None,
    ) -> Bundle:
        with self.lock:
            bundle = compliance.add_bundle(
                self,
                account_sid,
                iso_country,
                number_type,
                status,
                address_sid=address_sid,
                end_user_type=end_user_type,
                friendly_name=friendly_name,
                failure_reason=failure_reason,
            )
            bundle.status_callback = status_callback
            return bundle

    def set_bundle_status_callback(
        self, account_sid: str, bundle_sid: str, url: str | None
    ) -> Bundle:
        """Set a bundle's StatusCallback (what the retailer gives when creating the bundle)."""
        with self.lock:
            bundle = self.bundles_by_sid[bundle_sid]
            if bundle.account_sid != account_sid:
                raise KeyError(bundle_sid)
            bundle.status_callback = url
            return bundle

    def set_bundle_status(
        self, account_sid: str, bundle_sid: str, status: str, failure_reason: str | None = None
    ) -> Bundle:
        """Change a bundle's status (documents and evaluation follow). When the bundle has a
        StatusCallback, a signed callback is delivered (outside the lock) before this returns;
        see `compliance.bundle_callback` for its fields."""
        with self.lock:
            bundle = compliance.set_bundle_status(
                self, account_sid, bundle_sid, status, failure_reason
            )
            pending = compliance.bundle_callback(self, bundle, failure_reason)
        senders.deliver(self, pending)
        return bundle

    def add_trust_product(
        self, account_sid: str, friendly_name: str, status: str = "twilio-approved"
    ) -> Bundle:
        with self.lock:
            return compliance.add_trust_product(self, account_sid, friendly_name, status)

    def set_trust_product_status(self, account_sid: str, sid: str, status: str) -> Bundle:
        with self.lock:
            product = self.trust_products_by_sid[sid]
            if product.account_sid != account_sid:
                raise KeyError(sid)
            product.status = status
            product.date_updated = self.now()
            return product

    def set_supporting_document_status(
        self, document_sid: str, status: str, failure_reason: str | None = None
    ) -> SupportingDocument:
        """Set a regulatory (numbers v2) or trust (trusthub) supporting document's status."""
        with self.lock:
            doc = self.regulatory_documents.get(document_sid) or self.trust_documents[document_sid]
            doc.status = status
            doc.failure_reason = failure_reason
            doc.date_updated = self.now()
            return doc

    # ------------------------------------------------------------------ senders and the clock
    def mark_waba_bad(
        self, waba_id: str, reason: str = "WhatsApp Business Account is disabled"
    ) -> None:
        """Senders created with this WABA go OFFLINE (with this reason) instead of ONLINE."""
        with self.lock:
            self.bad_wabas[waba_id] = reason

    def set_sender_status(
        self, sender_sid: str, status: str, offline_reasons: list[dict[str, Any]] | None = None
    ) -> Sender:
        return senders.set_status(self, sender_sid, status, offline_reasons)

    def set_sender_properties(
        self,
        sender_sid: str,
        quality_rating: str | None = None,
        messaging_limit: str | None = None,
    ) -> Sender:
        return senders.set_properties(self, sender_sid, quality_rating, messaging_limit)

    def advance_clock(self, seconds: float) -> list[Callback]:
        """Move the emulator clock; senders change status and their callbacks are delivered."""
        return senders.advance(self, seconds)
