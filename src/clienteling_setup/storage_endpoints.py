"""HTTP side of the embedded local object storage: the upload target and the public objects.

Mounted only when the service runs on `LocalStorage` (the embedded default); in production the
same two jobs are done by S3 itself. Not part of the public API reference.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from clienteling_setup.errors import error_response
from clienteling_setup.providers.local_storage import (
    PUBLIC_PATH,
    UPLOAD_PATH,
    LocalStorage,
    ObjectNotFound,
    UploadRejected,
)
from clienteling_setup.providers.storage import StorageError

FILE_PART = "file"
# Room for the form fields and multipart framing on top of the largest file.
_FORM_OVERHEAD_BYTES = 64 * 1024
_MAX_FIELDS = 16
_MAX_FIELD_BYTES = 8 * 1024


def create_storage_router(storage: LocalStorage) -> APIRouter:
    router = APIRouter(tags=["storage"], include_in_schema=False)
    request_limit = storage.max_upload_bytes + _FORM_OVERHEAD_BYTES

    @router.post(UPLOAD_PATH, status_code=204)
    async def upload(request: Request) -> Response:
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            return _error(
                request, 400, "send the upload as multipart/form-data: the fields, then 'file'"
            )
        declared_length = request.headers.get("content-length", "")
        if declared_length.isdigit() and int(declared_length) > request_limit:
            return _error(request, 400, _too_large(storage.max_upload_bytes))
        try:
            form = await _parse_form(request, request_limit)
        except MultiPartException as exc:
            return _error(request, 400, f"the upload form could not be read: {exc.message}")
        try:
            file = form.get(FILE_PART)
            if not isinstance(file, UploadFile):
                return _error(request, 400, "the upload lacks the file part named 'file'")
            fields: dict[str, str] = {}
            for name, value in form.multi_items():
                if isinstance(value, str):
                    if name in fields:
                        return _error(request, 400, f"the field {name!r} is sent more than once")
                    fields[name] = value
            data = await file.read()
            await run_in_threadpool(storage.accept_upload, fields, data, file.content_type)
        except UploadRejected as exc:
            return _error(request, exc.status_code, exc.message)
        except StorageError as exc:
            return _error(request, 503, f"{exc.message}; try again later")
        finally:
            await form.close()
        return Response(status_code=204)

    @router.api_route(PUBLIC_PATH + "/{key:path}", methods=["GET", "HEAD"])
    async def public_object(request: Request, key: str) -> Response:
        try:
            found = await run_in_threadpool(storage.open_public, key)
        except ObjectNotFound:
            return _error(request, 404, f"no object under {key!r}; check the public URL")
        return FileResponse(
            found.path,
            media_type=found.content_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"},
        )

    return router


async def _parse_form(request: Request, limit: int) -> FormData:
    """Parse the multipart body, refusing to read more than `limit` bytes of it."""
    async with aclosing(request.stream()) as body, aclosing(_capped(body, limit)) as capped:
        parser = MultiPartParser(
            request.headers,
            capped,
            max_files=1,
            max_fields=_MAX_FIELDS,
            max_part_size=_MAX_FIELD_BYTES,
        )
        return await parser.parse()


async def _capped(stream: AsyncGenerator[bytes, None], limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise MultiPartException(_too_large(limit - _FORM_OVERHEAD_BYTES))
        yield chunk


def _too_large(max_bytes: int) -> str:
    return f"the upload is larger than {max_bytes} bytes; upload a smaller file"


def _error(request: Request, status_code: int, message: str) -> JSONResponse:
    return error_response(request, status_code, message)
