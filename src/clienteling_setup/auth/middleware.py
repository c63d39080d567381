"""Authentication and tenant resolution, before routing, so the error order is the spec's:
no Authorization (401), invalid token (403), Tenant missing or malformed (400), token not
granting the tenant (403); only then is the body looked at.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from clienteling_setup.auth.jwks import IdentityProviderUnavailable
from clienteling_setup.auth.tenant_names import TENANT_PATTERN
from clienteling_setup.auth.tokens import InvalidToken, TokenVerifier
from clienteling_setup.http_context import send_error

PROTECTED_PREFIX = "/clienteling/"
PUBLIC_PREFIXES = ("/clienteling/webhooks/",)


class AuthMiddleware:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier) -> None:
        self.app = app
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not path.startswith(PROTECTED_PREFIX)
            or path.startswith(PUBLIC_PREFIXES)
        ):
            await self.app(scope, receive, send)
            return
        try:
            problem = await self._authenticate(scope)
        except IdentityProviderUnavailable as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            await send_error(scope, send, 503, f"{exc} Try again later.", retry)
            return
        if problem is not None:
            status, message = problem
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            await send_error(scope, send, status, message, headers)
            return
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        authorization = headers.get("authorization")
        if not authorization:
            return 401, "The Authorization header is missing. Send 'Authorization: Bearer <token>'."
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return 401, "The Authorization header must be 'Bearer <token>'."
        try:
            principal = await self.verifier.verify(token.strip())
        except InvalidToken as exc:
            return 403, f"The bearer token is not valid ({exc}). Get a new token."
        tenant = headers.get("tenant")
        if tenant is None:
            return 400, "The Tenant header is missing. Send 'Tenant: <tenant name>'."
        if not TENANT_PATTERN.match(tenant):
            return 400, (
                "The Tenant header is malformed: it must match ^[a-z0-9][a-z0-9-]{0,62}$ "
                "(lower-case letters, digits and hyphens)."
            )
        if not principal.grants(tenant):
            return 403, f"The bearer token does not grant access to tenant '{tenant}'."
        state: dict[str, Any] = scope.setdefault("state", {})
        state["tenant"] = tenant
        state["principal"] = principal.subject
        return None
