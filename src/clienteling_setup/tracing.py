"""OpenTelemetry traces, off unless `CLIENTELING_TRACES` asks for them.

`console` prints each finished span on stdout; `otlp` sends them over OTLP/HTTP (protobuf) to
`CLIENTELING_TRACES_ENDPOINT`, or to where the standard `OTEL_EXPORTER_OTLP_*` variables say
(`http://localhost:4318/v1/traces` without either). FastAPI's own instrumentation makes a span
per request (and its dependency, endpoint and serialisation steps); the Twilio gateway adds one
client span per Twilio call (`twilio <operation>`), a child of the request's.

The provider becomes the process's global one, which OpenTelemetry lets a process set once:
the first service built with traces on in a process owns them.
"""

from __future__ import annotations

from typing import Literal

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

TraceExport = Literal["off", "console", "otlp"]


def tracer_provider(export: TraceExport, endpoint: str | None = None) -> TracerProvider | None:
    """The tracer provider that exports as asked, installed as the global one; None when off."""
    if export == "off":
        return None
    exporter: SpanExporter
    if export == "console":
        exporter = ConsoleSpanExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": "clienteling-setup"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
