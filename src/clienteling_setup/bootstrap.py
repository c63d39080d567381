"""The composition root: builds the runtime from settings. Real adapters by default; tests
may pass their own gateway or storage. Nothing here runs at import time."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from clienteling_setup.auth.tokens import TokenVerifier
from clienteling_setup.cache import TTLCache
from clienteling_setup.config import Settings
from clienteling_setup.crypto import SecretBox
from clienteling_setup.db import migrate
from clienteling_setup.db.session import make_engine, make_sessionmaker
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.providers.messaging import MessagingGateway
from clienteling_setup.providers.storage import ObjectStorage
from clienteling_setup.runtime import Runtime
from clienteling_setup.status import fragments
from clienteling_setup.status.cache import StatusCache
from clienteling_setup.sync import after_enable

if TYPE_CHECKING:
    from clienteling_setup.embedded_twilio import Role

log = logging.getLogger(__name__)


def _key_file(path: Path, make: object) -> str:
    """Read a key kept in the data folder, creating it (owner-only) on first start."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        value = make() if callable(make) else str(make)
        path.write_text(value)
        path.chmod(0o600)
    return path.read_text().strip()


def signing_secret(settings: Settings) -> str | None:
    if settings.jwt.algorithm != "HS256":
        return None
    if settings.jwt.secret is not None:
        return settings.jwt.secret.get_secret_value()
    return _key_file(settings.data_dir / "signing.key", lambda: secrets.token_urlsafe(48))


def encryption_keys(settings: Settings) -> list[str]:
    if settings.encryption_keys is not None:
        keys = [k.strip() for k in settings.encryption_keys.get_secret_value().split(",")]
        return [k for k in keys if k]
    return [_key_file(settings.data_dir / "encryption.key", SecretBox.generate_key)]


def build_gateway(
    settings: Settings,
    closers: list[object],
    box: SecretBox,
    role: Role = "serve",
    primary: list[str] | None = None,
) -> MessagingGateway:
    """`primary` receives the ISV's primary customer profile SID (`primary_profile`)."""
    from clienteling_setup.providers.twilio.sdk import TwilioGateway

    tw = settings.twilio
    found = primary_profile(settings, tw.account_sid)
    if tw.mode == "emulator" and not tw.api_base_url:
        from clienteling_setup.embedded_twilio import open_embedded

        # The emulated world lives beside the database it matches, so a restart (or a `sync`
        # beside a running `serve`) finds the subaccounts and numbers the tenants recorded.
        embedded = open_embedded(
            settings.data_dir, box, role=role, notice=lambda text: log.warning("%s", text)
        )
        closers.append(embedded.close)
        if primary is not None:
            primary.append(primary_profile(settings, embedded.account_sid) or "")
        return TwilioGateway(
            embedded.account_sid,
            embedded.auth_token,
            base_url=embedded.base_url,
            timeout=tw.timeout_seconds,
        )
    if not tw.account_sid or tw.auth_token is None:
        raise ValueError(
            "Twilio credentials are missing: set CLIENTELING_TWILIO__ACCOUNT_SID and "
            "CLIENTELING_TWILIO__AUTH_TOKEN (or CLIENTELING_TWILIO__MODE=emulator)."
        )
    if primary is not None and found is not None:
        primary.append(found)
    return TwilioGateway(
        tw.account_sid,
        tw.auth_token.get_secret_value(),
        base_url=tw.api_base_url,
        timeout=tw.timeout_seconds,
    )


def primary_profile(settings: Settings, master_account_sid: str | None) -> str | None:
    """The ISV's Primary Customer Profile: the setting, else (emulator mode) the one the
    emulator seeds in its master account, so a first session registers without setup."""
    tw = settings.twilio
    if tw.primary_customer_profile_sid is not None:
        return tw.primary_customer_profile_sid
    if tw.mode == "emulator" and master_account_sid:
        from clienteling_setup.embedded_twilio import emulated_primary_customer_profile

        return emulated_primary_customer_profile(master_account_sid)
    return None


def build_storage(settings: Settings, public_base_url: str) -> ObjectStorage:
    if settings.s3.bucket:
        from clienteling_setup.providers.s3 import S3Storage

        return S3Storage(
            settings.s3.bucket,
            settings.s3.region,
            endpoint_url=settings.s3.endpoint_url,
            public_base_url=settings.s3.public_base_url,
        )
    key = _key_file(settings.data_dir / "storage.key", lambda: secrets.token_hex(32))
    return LocalStorage(settings.data_dir / "objects", public_base_url, key.encode())


def build_runtime(
    settings: Settings,
    *,
    public_base_url: str,
    gateway: MessagingGateway | None = None,
    storage: ObjectStorage | None = None,
    apply_migrations: bool | None = None,
    role: Role = "serve",
) -> Runtime:
    """`role`: what the process is, for the embedded default's Twilio emulator (a `sync` is
    short-lived, so it never lends its emulator to a `serve`; see `embedded_twilio`)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url()
    if apply_migrations if apply_migrations is not None else url.startswith("sqlite"):
        migrate.upgrade(url)
    engine = make_engine(url)
    closers: list[object] = []
    hs256 = signing_secret(settings)
    base_url = (settings.public_base_url or public_base_url).rstrip("/")
    box = SecretBox(encryption_keys(settings))
    primary: list[str] = []
    if gateway is None:
        gateway = build_gateway(settings, closers, box, role, primary)
    else:
        primary.append(primary_profile(settings, settings.twilio.account_sid) or "")
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        gateway=gateway,
        primary_customer_profile_sid=next((p for p in primary if p), None),
        secrets=box,
        verifier=TokenVerifier(settings.jwt, secret=hs256),
        storage=storage if storage is not None else build_storage(settings, base_url),
        public_base_url=base_url,
        hs256_secret=hs256,
        list_cache=TTLCache(settings.twilio.list_cache_seconds),
        status_cache=StatusCache(settings.status_cache_bytes),
        closers=closers,
    )
    runtime.after_enable = after_enable(runtime)
    if settings.traces != "off":
        from clienteling_setup.tracing import tracer_provider

        provider = tracer_provider(settings.traces, settings.traces_endpoint)
        runtime.tracer_provider = provider
        if provider is not None:
            runtime.closers.append(provider.shutdown)  # exports the spans still queued
    # Every write keeps the status document's stored per-store entries current.
    fragments.keep_current(runtime.sessions)
    return runtime
