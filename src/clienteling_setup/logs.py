"""Structured JSON logs, one object per line. Secrets never reach a log record: the access
log carries no headers or bodies, and values that look like credentials are masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}
# Fields our own code fills with values known to be safe (ids, routes, figures).
_TRUSTED_FIELDS = frozenset({"request_id", "tenant", "method", "route", "status", "duration_ms"})
_SECRETISH = re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+|\b[0-9a-f]{32}\b", re.IGNORECASE)


def _mask(value: object) -> object:
    if isinstance(value, str):
        return _SECRETISH.sub(lambda m: (m.group(1) or "") + "***", value)
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": _mask(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if key in _TRUSTED_FIELDS else _mask(value)
        if record.exc_info:
            entry["exception"] = _mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", stream: object = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
    # The SDK logs every request's URL and headers at INFO: too much, and too close to secrets.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
