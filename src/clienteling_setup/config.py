"""Settings: the only place that reads the environment (prefix CLIENTELING_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TwilioSettings(BaseModel):
    mode: Literal["emulator", "sdk"] = "emulator"
    account_sid: str | None = None
    auth_token: SecretStr | None = None
    api_base_url: str | None = None
    timeout_seconds: float = 10.0
    list_cache_seconds: float = 60.0
    #: The ISV's own approved Primary Customer Profile (of the master account), assigned to
    #: each retailer's secondary customer profile as Twilio's ISV guide requires. Needed by the
    #: US A2P 10DLC registration; in emulator mode, the emulator's seeded one by default.
    primary_customer_profile_sid: str | None = Field(default=None, pattern=r"^BU[0-9a-fA-F]{32}$")


class S3Settings(BaseModel):
    bucket: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    public_base_url: str | None = None
    upload_expiry_seconds: int = 900


class JwtSettings(BaseModel):
    algorithm: Literal["HS256", "RS256", "ES256"] = "HS256"
    secret: SecretStr | None = None
    public_key_pem: str | None = None
    jwks_url: str | None = None
    #: How long fetched JWKS keys are used before a refresh (served meanwhile while it runs).
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    #: At most one JWKS fetch starts per this many seconds (unknown `kid`s, failures).
    jwks_refresh_interval_seconds: float = Field(default=10.0, ge=0)
    #: A JWKS fetch gives up after this long; waiting requests then answer 503.
    jwks_timeout_seconds: float = Field(default=3.0, gt=0)
    issuer: str = "clienteling-setup"
    audience: str = "clienteling-setup"


class JobsSettings(BaseModel):
    """The bulk onboarding workers of each server process (see `jobs.runner`)."""

    workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Stores one process onboards at once "
        "(default 8; 1 on the embedded SQLite database).",
    )
    tenant_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Stores of one tenant onboarded at once, across "
        "every process (it shrinks after Twilio 429s and grows back).",
    )
    poll_seconds: float = Field(default=0.5, gt=0)
    heartbeat_seconds: float = Field(default=5.0, gt=0)
    stale_seconds: float = Field(default=30.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CLIENTELING_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("./var")
    database_url: str | None = None
    public_base_url: str | None = None
    encryption_keys: SecretStr | None = Field(
        default=None, description="Comma-separated Fernet keys; the first encrypts."
    )
    twilio: TwilioSettings = TwilioSettings()
    s3: S3Settings = S3Settings()
    jwt: JwtSettings = JwtSettings()
    jobs: JobsSettings = JobsSettings()
    sync_interval_seconds: float = 300.0
    sync_concurrency: int = Field(
        default=8,
        ge=1,
        le=64,
        description="Tenants one reconciliation pass works on at once, in each process.",
    )
    background_process: bool = Field(
        default=True,
        description="`serve` runs the job workers and the periodic reconciliation in a child "
        "process (false: as threads of the serving process, sharing its GIL with the API).",
    )
    regulations_refresh_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="Twilio's regulations (which country needs a bundle) are read again by a "
        "reconciliation pass at most this often, across processes (0: every pass).",
    )
    max_body_bytes: int = 1_000_000
    lease_heartbeat_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="A workflow lease whose holder has not heartbeaten for this long is taken "
        "over (its process died, hangs or lost the database, on any host).",
    )
    status_cache_bytes: int = Field(
        # A serving process holds some 115 MB before its first read; this keeps it under
        # 200 MB with the cache full (`bench.data_paths`: 70 tenants of 10,000 stores).
        default=48 * 1024 * 1024,
        ge=0,
        description="Bound of the cached status documents, in bytes (0: no cache).",
    )
    log_level: str = "INFO"
    #: When set, `GET /metrics` answers only `Authorization: Bearer <this token>`.
    metrics_token: SecretStr | None = None
    #: OpenTelemetry traces: off, printed (console) or sent over OTLP/HTTP (otlp).
    traces: Literal["off", "console", "otlp"] = "off"
    #: The OTLP/HTTP traces URL (default: the OTEL_EXPORTER_OTLP_* variables, else localhost).
    traces_endpoint: str | None = None

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'clienteling.db').resolve()}"


def twilio_environment(base_url: str, account_sid: str, auth_token: str) -> dict[str, str]:
    """The environment that points the service at a Twilio (an emulator) at `base_url`, named
    as `Settings` reads it (prefix, then ``twilio``, the nested delimiter and the field)."""
    config = Settings.model_config
    prefix = f"{config.get('env_prefix', '')}twilio{config.get('env_nested_delimiter', '')}"
    values = {"api_base_url": base_url, "account_sid": account_sid, "auth_token": auth_token}
    return {f"{prefix}{name}".upper(): value for name, value in values.items()}
