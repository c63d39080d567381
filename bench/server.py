"""The service as `clienteling-setup serve` runs it, plus the benchmark's baseline route.

`python -m bench.server --port P` reads the same CLIENTELING_* environment as `serve`. With
CLIENTELING_BENCH_BASELINE=1 it also mounts GET /clienteling/_bench/baseline?bytes=N: a
pre-serialised JSON document of N bytes behind the same middleware, authentication and thread
pool as the status route (the floor of the stack). The route exists only in this module, never
in the product.
"""

from __future__ import annotations

import argparse
import os
from typing import Annotated

from fastapi import APIRouter, Query, Response

from clienteling_setup.deps import TenantDep

router = APIRouter(prefix="/clienteling/_bench", include_in_schema=False)
_documents: dict[int, bytes] = {}


def document(size: int) -> bytes:
    """A valid JSON document of exactly `size` bytes (size >= 8)."""
    found = _documents.get(size)
    if found is None:
        found = b'{"pad":"' + b"x" * (size - 10) + b'"}'
        _documents[size] = found
    return found


@router.get("/baseline")
def baseline(tenant: TenantDep, size: Annotated[int, Query(alias="bytes", ge=10)]) -> Response:
    return Response(document(size), media_type="application/json")


def main() -> None:
    import uvicorn

    from clienteling_setup import gc_tuning
    from clienteling_setup.app import create_app
    from clienteling_setup.background import background_for
    from clienteling_setup.bootstrap import build_runtime
    from clienteling_setup.config import Settings
    from clienteling_setup.logs import configure_logging

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--default-gc", action="store_true", help="leave the collector as CPython sets it"
    )
    args = parser.parse_args()
    settings = Settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings, public_base_url=f"http://{args.host}:{args.port}")
    app = create_app(runtime)
    if os.environ.get("CLIENTELING_BENCH_BASELINE") == "1":
        app.include_router(router)
    # The bulk onboarding workers (and periodic reconciliation), as `serve` runs them.
    background = background_for(runtime, settings, runtime.public_base_url)
    background.start()
    if not args.default_gc:
        gc_tuning.for_serving()  # as `clienteling-setup serve` does
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        background.stop()
        runtime.close()


if __name__ == "__main__":
    main()
