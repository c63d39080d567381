"""Who asked for a change that costs money, as the ledger records it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    """The bearer token's subject and the request's id, or the command that did the work
    (`clienteling-setup sync`, `clienteling-setup numbers orphans --release`), which has no
    request id."""

    subject: str
    request_id: str | None = None


#: Reconciliation finishing work nobody is waiting for.
SYNC = Actor("clienteling-setup sync")
