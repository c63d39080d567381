"""`EmulatorState`: the emulated world plus faults, the request log, latency and the controls.

All public methods are thread-safe (the world's re-entrant lock): tests call them from their own
thread while the server thread answers the SDK. Handlers in the ``api_*`` modules work on the same
records under the same lock. Status callbacks go out outside the lock, in the order the changes
happened, through one worker per state (`callbacks.Outbox`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, Unpack

from . import a2p, compliance, senders
from .callbacks import Outbox
from .compliance import BundleOptions
from .faults import Fault, FaultRegistry, FaultRule
from .models import (
    Account,
    Address,
    BrandRegistration,
    Bundle,
    Callback,
    Campaign,
    PendingCallback,
    Sender,
    SupportingDocument,
    plain,
)
from .seed import seed_account
from .world import World

P = ParamSpec("P")


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    host: str  # api | messaging | numbers | pricing | trusthub
    path: str  # Twilio's path, without the host prefix
    account_sid: str | None  # the authenticated account, None when authentication failed
    params: dict[str, Any]  # query string, form fields or the JSON body
    status: int  # 0 when the connection was dropped
    fault: str | None = None  # the fault kind that hit this request, if any
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


class EmulatorState(World):
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
        # Set before World.__init__, whose reset() clears them.
        self.seed_subaccounts = seed_subaccounts
        self.faults = FaultRegistry(seed)
        self.latency = 0.0
        self._requests: list[LoggedRequest] = []
        self._outbox: Outbox | None = None
        self._outbox_lock = threading.Lock()
        super().__init__(master_account_sid, master_auth_token, seed, pool_scale=pool_scale)

    def reset(self) -> None:
        """Forget everything but the master account (same SID and token); clear faults and logs."""
        with self.lock:
            super().reset()
            self.latency = 0.0
            self.faults.clear()
            self._requests = []

    # ------------------------------------------------------------------ accounts
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
                seed_account(self, account.sid)
            return account

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

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able view of the state (served at GET /_emulator/state)."""
        with self.lock:
            accounts = list(self.accounts.values())
            return {
                "master_account_sid": self.master_account_sid,
                "clock": self.clock,
                "now": self.now().isoformat(),
                "latency": self.latency,
                "accounts": plain(accounts),
                "numbers": {a.sid: plain(self.owned_numbers(a.sid)) for a in accounts},
                "messaging_services": {
                    a.sid: [
                        {**plain(s), "phone_numbers": plain(self.messaging_service_numbers(s.sid))}
                        for s in self.messaging_services(a.sid)
                    ]
                    for a in accounts
                },
                "applications": {a.sid: plain(self.applications(a.sid)) for a in accounts},
                "senders": {a.sid: plain(self.senders(a.sid)) for a in accounts},
                "faults": [f.to_json() for f in self.faults.list()],
                "unavailable_numbers": sorted(self.unavailable_numbers),
            }

    # ------------------------------------------------------------------ faults
    def add_fault(self, **rule: Unpack[FaultRule]) -> Fault:
        """Add a fault rule (see `faults.py`: method, path, kind, status, code, retry_after, times,
        rate, delay); returns its handle (`.hits`, `.cancel()`)."""
        return self.faults.add(**rule)

    def clear_faults(self) -> None:
        self.faults.clear()

    def make_number_unavailable(self, phone_number: str) -> None:
        """Let another (invisible) Twilio customer take a number: buying it then fails (21422)."""
        with self.lock:
            self.unavailable_numbers.add(phone_number)

    # ------------------------------------------------------------------ status callbacks
    def _callback_outbox(self) -> Outbox:
        with self._outbox_lock:
            if self._outbox is None:
                self._outbox = Outbox(self)
            return self._outbox

    def deliver(self, pending: list[PendingCallback]) -> list[Callback]:
        """Send status callbacks (in order, outside the lock) and wait until they went."""
        if not pending:
            return []
        return self._callback_outbox().submit(pending).result()

    def deliver_later(self, pending: list[PendingCallback]) -> None:
        """Queue status callbacks without waiting. Called under the lock, they go out before
        those of any later change."""
        if pending:
            self._callback_outbox().submit(pending)

    # ------------------------------------------------------------------ compliance
    def add_address(self, account_sid: str, iso_country: str, **fields: Any) -> Address:
        with self.lock:
            return compliance.add_address(self, account_sid, iso_country, **fields)

    def add_bundle(
        self,
        account_sid: str,
        iso_country: str,
        number_type: str,
        status: str = "twilio-approved",
        **options: Unpack[BundleOptions],
    ) -> Bundle:
        """Add a regulatory bundle with its end user, documents, address and evaluation."""
        with self.lock:
            return compliance.add_bundle(
                self, account_sid, iso_country, number_type, status, **options
            )

    def _bundle_of(self, records: dict[str, Bundle], account_sid: str, sid: str) -> Bundle:
        bundle = records[sid]
        if bundle.account_sid != account_sid:
            raise KeyError(sid)
        return bundle

    def set_bundle_status_callback(
        self, account_sid: str, bundle_sid: str, url: str | None
    ) -> Bundle:
        """Set a bundle's StatusCallback (what its owner gives when creating it)."""
        with self.lock:
            bundle = self._bundle_of(self.bundles_by_sid, account_sid, bundle_sid)
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
        self.deliver(pending)
        return bundle

    def add_trust_product(
        self, account_sid: str, friendly_name: str, status: str = "twilio-approved"
    ) -> Bundle:
        with self.lock:
            return compliance.add_trust_product(self, account_sid, friendly_name, status)

    def set_trust_product_status(
        self, account_sid: str, sid: str, status: str, failure_reason: str | None = None
    ) -> Bundle:
        """A reviewer's verdict on a trust product (a rejection carries `failure_reason` in
        its errors); its StatusCallback, if any, is delivered before this returns."""
        with self.lock:
            product = self._bundle_of(self.trust_products_by_sid, account_sid, sid)
            pending = a2p.set_profile_status(self, product, status, failure_reason)
        self.deliver(pending)
        return product

    # ------------------------------------------------------------------ A2P 10DLC
    def set_customer_profile_status(
        self, sid: str, status: str, failure_reason: str | None = None
    ) -> Bundle:
        """A reviewer's verdict on a customer profile (see `set_trust_product_status`)."""
        with self.lock:
            profile = self.customer_profiles_by_sid[sid]
            pending = a2p.set_profile_status(self, profile, status, failure_reason)
        self.deliver(pending)
        return profile

    def set_brand_status(
        self, sid: str, status: str, failure_reason: str | None = None
    ) -> BrandRegistration:
        """TCR's verdict on a brand: APPROVED (vetted, unless low-volume) or FAILED (with
        `failure_reason`)."""
        with self.lock:
            return a2p.set_brand_status(self, self.brands_by_sid[sid], status, failure_reason)

    def set_campaign_status(
        self, sid: str, status: str, errors: list[dict[str, Any]] | None = None
    ) -> Campaign:
        """The campaign review's verdict: VERIFIED, or FAILED with `errors` (Twilio's
        ``error_code``, ``fields``, ``description``, ``url``)."""
        with self.lock:
            return a2p.set_campaign_status(self, self.campaigns_by_sid[sid], status, errors)

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

    def _change_sender(
        self,
        sender_sid: str,
        change: Callable[Concatenate[World, Sender, P], list[PendingCallback]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Sender:
        with self.lock:
            sender = self.senders_by_sid[sender_sid]
            pending = change(self, sender, *args, **kwargs)
        self.deliver(pending)
        return sender

    def set_sender_status(
        self, sender_sid: str, status: str, offline_reasons: list[dict[str, Any]] | None = None
    ) -> Sender:
        return self._change_sender(sender_sid, senders.set_status, status, offline_reasons)

    def set_sender_properties(
        self,
        sender_sid: str,
        quality_rating: str | None = None,
        messaging_limit: str | None = None,
    ) -> Sender:
        return self._change_sender(
            sender_sid, senders.set_properties, quality_rating, messaging_limit
        )

    def advance_clock(self, seconds: float) -> list[Callback]:
        """Move the emulator clock; senders change status, A2P reviews that are due end
        (`a2p.advance`), and their callbacks are delivered."""
        with self.lock:
            pending = senders.advance(self, seconds)
            pending += a2p.advance(self)
        return self.deliver(pending)
