"""Bearer tokens: JWTs naming the tenants they grant (claim `tenants`).

Embedded default: HS256 with a key generated in the data folder. Production: RS256/ES256 with a
PEM public key or a JWKS URL (keys cached and refreshed off the event loop by `jwks.JwksKeys`);
the algorithm is pinned and `exp`, `iss` and `aud` are required.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from clienteling_setup.auth.jwks import JwksKeys, UnknownSigningKey
from clienteling_setup.config import JwtSettings


class InvalidToken(Exception):
    """The token cannot be trusted (signature, expiry, issuer, audience or shape)."""


@dataclass(frozen=True)
class Principal:
    subject: str
    tenants: frozenset[str]

    def grants(self, tenant: str) -> bool:
        return tenant in self.tenants


class TokenVerifier:
    def __init__(self, settings: JwtSettings, *, secret: str | None = None) -> None:
        self._settings = settings
        self._algorithm = settings.algorithm
        self._jwks: JwksKeys | None = None
        self._key: str | None
        if self._algorithm == "HS256":
            self._key = secret or (settings.secret.get_secret_value() if settings.secret else None)
            if not self._key:
                raise ValueError("HS256 needs a secret (CLIENTELING_JWT__SECRET)")
        elif settings.jwks_url:
            self._key = None
            self._jwks = JwksKeys(
                settings.jwks_url,
                lifetime=settings.jwks_cache_seconds,
                refresh_interval=settings.jwks_refresh_interval_seconds,
                timeout=settings.jwks_timeout_seconds,
            )
        elif settings.public_key_pem:
            self._key = settings.public_key_pem
        else:
            raise ValueError(
                f"{self._algorithm} needs CLIENTELING_JWT__PUBLIC_KEY_PEM "
                "or CLIENTELING_JWT__JWKS_URL"
            )

    async def verify(self, token: str) -> Principal:
        """The principal a token speaks for. Raises `InvalidToken`, or
        `jwks.IdentityProviderUnavailable` when the keys to check it could not be fetched."""
        key: object = self._key
        if self._jwks is not None:
            key = await self._jwks_key(token)
        try:
            claims = jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=[self._algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        tenants = claims.get("tenants")
        if not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants):
            raise InvalidToken("the token has no 'tenants' claim listing the tenants it grants")
        return Principal(subject=str(claims["sub"]), tenants=frozenset(tenants))

    async def _jwks_key(self, token: str) -> object:
        """The identity provider's key for this token. The header is checked first, so a token
        that is not a JWT of the configured algorithm never causes a fetch."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if header.get("alg") != self._algorithm:
            raise InvalidToken(f"the token is not signed with {self._algorithm}")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("the token's kid is not a string")
        assert self._jwks is not None
        try:
            return await self._jwks.key_for(kid)
        except UnknownSigningKey as exc:
            raise InvalidToken(str(exc)) from exc


def issue_token(
    secret: str,
    tenants: list[str],
    *,
    issuer: str,
    audience: str,
    subject: str = "cli",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "tenants": tenants,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
