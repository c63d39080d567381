"""The operator console: static HTML, CSS and JavaScript served at /console.

The console is a client of the public API only (it calls /clienteling/... with the bearer token
and tenant the operator pastes, kept in the browser's session storage). This module only serves
its files from package data; there is no build step and nothing is fetched from elsewhere.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from clienteling_setup import errors

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Scripts and styles only from this service; uploads may go to the storage's own host (S3),
# and profile pictures may be shown from there.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: "
        "http: https:; connect-src 'self' http: https:; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def _static_file(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    media_type = MEDIA_TYPES.get(suffix)
    if media_type is None or "/" in name or "\\" in name or name.startswith("."):
        raise errors.NotFound(f"The console has no file '{name}'.")
    entry = resources.files(__package__ or __name__).joinpath("static", name)
    if not entry.is_file():
        raise errors.NotFound(f"The console has no file '{name}'.")
    return Response(entry.read_bytes(), media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/console")
def console_redirect() -> RedirectResponse:
    return RedirectResponse("/console/", status_code=307)


@router.get("/console/")
def console_page() -> Response:
    return _static_file("index.html")


@router.get("/console/stores/{store_id}")
def console_store_page(store_id: str) -> Response:
    # A store's page is the console's own page: its script shows the store (deep links).
    return _static_file("index.html")


@router.get("/console/{name}")
def console_asset(name: str) -> Response:
    return _static_file(name)
