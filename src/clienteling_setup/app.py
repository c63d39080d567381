"""create_app(): routers, middleware, the one error handler, and the runtime."""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import SecretStr
from starlette.middleware.gzip import GZipMiddleware

from clienteling_setup import console, errors, webhooks
from clienteling_setup.a2p import endpoints as a2p_endpoints
from clienteling_setup.auth.middleware import AuthMiddleware
from clienteling_setup.auth.tenant_names import TENANT_PATTERN
from clienteling_setup.compliance import callbacks as compliance_callbacks
from clienteling_setup.compliance import endpoints as compliance_endpoints
from clienteling_setup.db.session import ping
from clienteling_setup.errors import install_error_handlers
from clienteling_setup.http_context import RequestContextMiddleware, RouteTemplates
from clienteling_setup.jobs import endpoints as job_endpoints
from clienteling_setup.ledger import endpoints as ledger_endpoints
from clienteling_setup.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from clienteling_setup.offboarding import endpoints as offboarding_endpoints
from clienteling_setup.onboarding import endpoints as onboarding_endpoints
from clienteling_setup.orphans import endpoints as orphan_endpoints
from clienteling_setup.providers.local_storage import LocalStorage
from clienteling_setup.runtime import Runtime
from clienteling_setup.status import endpoints as status_endpoints
from clienteling_setup.storage_endpoints import create_storage_router
from clienteling_setup.stores import endpoints as store_endpoints
from clienteling_setup.tenants import endpoints as tenant_endpoints
from clienteling_setup.whatsapp import endpoints as whatsapp_endpoints

log = logging.getLogger("clienteling_setup.app")

#: Responses smaller than this go uncompressed: compressing them saves less than it costs.
GZIP_MINIMUM_BYTES = 4096

API_DESCRIPTION = (
    "Use this resource to set up retailers and stores for clienteling in the NewStore "
    "platform: buy and attach store phone numbers through Twilio, meet each country's "
    "regulatory requirements, register WhatsApp senders, and follow onboarding progress."
)

# Redoc comes from the fastapi-offline package (pinned), served by us: /docs needs no CDN.
REDOC_SCRIPT = "/docs/redoc.standalone.js"
REDOC_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Clienteling Setup API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><redoc spec-url="/openapi.json"></redoc>
<noscript>The reference is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script src="{REDOC_SCRIPT}"></script>
</body></html>"""


def create_app(runtime: Runtime) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FastAPI(
        title="Clienteling Setup API",
        version="0.0.1",
        description=API_DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        **_telemetry(runtime),
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(tenant_endpoints.router)
    app.include_router(status_endpoints.router)
    app.include_router(store_endpoints.router)
    app.include_router(onboarding_endpoints.router)
    app.include_router(offboarding_endpoints.router)
    app.include_router(job_endpoints.router)
    app.include_router(ledger_endpoints.router)
    app.include_router(orphan_endpoints.router)
    app.include_router(compliance_callbacks.router)
    app.include_router(compliance_endpoints.router)
    app.include_router(whatsapp_endpoints.router)
    app.include_router(a2p_endpoints.router)
    app.include_router(webhooks.router)
    app.include_router(whatsapp_endpoints.callback_router)
    app.include_router(a2p_endpoints.callback_router)
    app.include_router(console.router)
    if isinstance(runtime.storage, LocalStorage):
        app.include_router(create_storage_router(runtime.storage))
    _add_operational_routes(app, runtime)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Starlette wraps each added middleware around those added before it, so the last one
    # added is the outermost: the request context (request id, body limit) wraps
    # authentication, and every 401/403 carries a request id.
    # Innermost, responses gzip-compressed for clients that accept it, above a size worth it
    # (the status document: 2.8 MB at 10,000 stores, about a tenth compressed); level 6
    # compresses about as well as 9 in a fraction of the time.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=6)
    app.add_middleware(AuthMiddleware, verifier=runtime.verifier)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=runtime.settings.max_body_bytes,
        # For /metrics, requests refused before routing are named by the API's templates,
        # taken now: generating the schema takes a while, never on the event loop.
        routes=RouteTemplates(app.openapi()["paths"]),
    )
    return app


def _telemetry(runtime: Runtime) -> dict[str, Any]:
    """FastAPI's own OpenTelemetry spans, exported through the service's provider when
    CLIENTELING_TRACES turns them on (metrics are /metrics', logs are the JSON log's)."""
    if runtime.tracer_provider is None:
        return {}
    config = {
        "tracer_provider": runtime.tracer_provider,
        "metrics": False,
        "logs": False,
        "auto_configure": False,
    }
    return {"telemetry": config}


def _add_operational_routes(app: FastAPI, runtime: Runtime) -> None:
    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        # async: served on the event loop, never queued behind the worker threads.
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            ping(runtime.engine)
        except Exception:  # noqa: BLE001 - any failure means not ready
            # The driver's error names hosts, ports and users: logged for the operator,
            # never sent to whoever asks.
            log.warning("readiness: the database is unavailable", exc_info=True)
            return JSONResponse(
                {"status": "unavailable", "database": "unavailable"},
                503,
                headers={"Retry-After": "5"},
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        # Prometheus text format: figures and tenant names, no tenant data. Open like /healthz
        # unless CLIENTELING_METRICS_TOKEN asks for a bearer token.
        _check_metrics_token(runtime.settings.metrics_token, request)
        return Response(runtime.metrics.render(), media_type=METRICS_CONTENT_TYPE)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(REDOC_PAGE)

    @app.get(REDOC_SCRIPT, include_in_schema=False)
    def redoc_script() -> FileResponse:
        # The file changes only with the pinned package, so browsers may keep it a day.
        return FileResponse(
            str(files("fastapi_offline") / "static" / "redoc.standalone.js"),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )


def _check_metrics_token(expected: SecretStr | None, request: Request) -> None:
    if expected is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.Unauthorized(
            "GET /metrics needs 'Authorization: Bearer <token>' with the metrics token "
            "(CLIENTELING_METRICS_TOKEN).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode()):
        raise errors.Forbidden("The metrics token is not valid.")


_WEBHOOK_FORBIDDEN = {
    "description": "X-Twilio-Signature is missing or not valid for this URL and account.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    # The Tenant header is enforced by AuthMiddleware; document it as the reference does.
    for path, path_item in schema.get("paths", {}).items():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            # Validation failures are 400 (ErrorBody), never FastAPI's default 422.
            responses.pop("422", None)
            if path.startswith("/clienteling/webhooks/"):
                responses.setdefault("403", _WEBHOOK_FORBIDDEN)
            for param in operation.get("parameters", []):
                if param.get("in") == "header" and param.get("name") == "Tenant":
                    param["required"] = True
                    param["schema"] = {"type": "string", "pattern": TENANT_PATTERN.pattern}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(unused, None)
    app.openapi_schema = schema
    return schema
