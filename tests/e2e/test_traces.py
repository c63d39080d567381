"""OpenTelemetry traces: a `clienteling-setup serve` process with CLIENTELING_TRACES=otlp sends
its spans over OTLP/HTTP to a collector this test runs, and the request's span has the Twilio
calls it made as children. Traces are off by default (tracing sets the process's global
provider, so each case is a process of its own)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.e2e.processes import Deployment, ServerProcess, token
from tests.service.helpers import available_number, enable, put_store
from tests.support import Api, sqlite_url
from twilio_emulator import EmulatorServer


class Collector:
    """An OTLP/HTTP traces receiver on loopback: the spans it was sent, by name."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the standard library's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with collector.lock:
                    for resource in request.resource_spans:
                        for scope in resource.scope_spans:
                            collector.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def named(self, prefix: str) -> list[Any]:
        with self.lock:
            return [span for span in self.spans if span.name.startswith(prefix)]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    receiver = Collector()
    yield receiver
    receiver.stop()


def _serve(
    tmp_path: Path, emulator: EmulatorServer, **env: str
) -> tuple[Deployment, ServerProcess]:
    deployment = Deployment(sqlite_url(tmp_path), emulator, tmp_path)
    server = ServerProcess("traced", {**deployment.env("traced"), **env}, tmp_path / "traced.log")
    return deployment, server.start()


def _api(server: ServerProcess, tenant: str) -> Api:
    client = httpx.Client(base_url=server.base_url, timeout=60)
    return Api(server.base_url, token(tenant), tenant, client)


def test_requests_and_twilio_calls_are_traced_over_otlp(
    tmp_path: Path, emulator: EmulatorServer, collector: Collector
) -> None:
    _, server = _serve(
        tmp_path,
        emulator,
        CLIENTELING_TRACES="otlp",
        CLIENTELING_TRACES_ENDPOINT=collector.url,
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within 0.1 s instead of 5 s
    )
    api = _api(server, "traced")
    try:
        enable(api)
        put_store(api, "us-nyc")
        available_number(api, "us-nyc")
        deadline = time.monotonic() + 30
        while not collector.named("twilio search available numbers"):
            assert time.monotonic() < deadline, [s.name for s in collector.spans]
            time.sleep(0.1)
    finally:
        api.client.close()
        server.stop()
    (request,) = [
        span
        for span in collector.named("GET /clienteling/stores/{store_id}/available-phone-numbers")
        if span.parent_span_id == b""
    ]
    (search,) = collector.named("twilio search available numbers")
    assert search.trace_id == request.trace_id, "the Twilio call is part of the request's trace"
    attributes = {a.key: a.value.string_value for a in search.attributes}
    assert attributes["twilio.outcome"] == "ok"
    assert collector.named("twilio create subaccount"), "enabling's Twilio calls are traced"


def test_traces_are_off_by_default(
    tmp_path: Path, emulator: EmulatorServer, collector: Collector
) -> None:
    _, server = _serve(
        tmp_path,
        emulator,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=collector.url,  # nowhere to send them is not why
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    api = _api(server, "quiet")
    try:
        enable(api)
        time.sleep(1.0)  # several export periods
    finally:
        api.client.close()
        server.stop()
    assert collector.spans == []
