"""What a running service holds: database, Twilio gateway, storage, keys, caches.

Built once by the composition root (`bootstrap.build_runtime`) and seen only by the entry
points (`app`, `cli`, and `deps`, which hands each endpoint the ports it declares). Services
never receive it: they take the ports they need.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clienteling_setup.auth.tokens import TokenVerifier
from clienteling_setup.cache import TTLCache
from clienteling_setup.config import Settings
from clienteling_setup.crypto import SecretBox
from clienteling_setup.metrics import Metrics
from clienteling_setup.providers.messaging import AccountCredentials, MessagingGateway
from clienteling_setup.providers.storage import ObjectStorage
from clienteling_setup.status.cache import StatusCache, StatusCacheCollector
from clienteling_setup.sync import ReconciliationLagCollector
from clienteling_setup.unit_of_work import UnitsOfWork
from clienteling_setup.workflow.leases import TakeoverCollector


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    gateway: MessagingGateway
    secrets: SecretBox
    verifier: TokenVerifier
    storage: ObjectStorage
    public_base_url: str
    hs256_secret: str | None = None
    list_cache: TTLCache = field(default_factory=lambda: TTLCache(60.0))
    status_cache: StatusCache = field(default_factory=StatusCache)
    closers: list[Any] = field(default_factory=list)
    #: What `GET /metrics` shows: this service's own registry (see `clienteling_setup.metrics`).
    metrics: Metrics = field(default_factory=Metrics)
    #: OpenTelemetry's tracer provider when traces are on (see `clienteling_setup.tracing`).
    tracer_provider: Any = None
    #: What enabling does next (the first compliance sync), set by the composition root.
    after_enable: Callable[[str, AccountCredentials], None] | None = None
    #: The ISV's Primary Customer Profile (BU...), None when not configured (A2P registration
    #: then answers 503 naming the setting).
    primary_customer_profile_sid: str | None = None
    uows: UnitsOfWork = field(init=False)

    def __post_init__(self) -> None:
        self.uows = UnitsOfWork(
            self.sessions,
            self.secrets,
            lease_timeout=self.settings.lease_heartbeat_timeout_seconds,
        )
        self.metrics.register(StatusCacheCollector(self.status_cache))
        self.metrics.register(TakeoverCollector(self.sessions))
        self.metrics.register(ReconciliationLagCollector(self.uows))

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.engine.dispose()
