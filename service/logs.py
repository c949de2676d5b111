"""Structured logs: one JSON object per line on stderr, with the request id of the request being served.

`configure(level)` behaves like `logging.basicConfig`: it installs the JSON handler only when the root logger
has none yet (a server process), so it never replaces handlers someone else installed (pytest's caplog, an
embedding application). Uvicorn's own loggers are routed through it, and its access log is left off: the
request middleware writes one richer access line per request.

What is logged at INFO is metadata (routes, statuses, latencies, engine names, error classes): never the
article's text, the model's answer or a secret.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from service.request_context import current_request_id

_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
_FIELDS = ("levelname", "name", "message")


class RequestJsonFormatter(JsonFormatter):
    """JSON lines with a UTC timestamp, level, logger, message, the current request id and any `extra`."""

    def __init__(self) -> None:
        super().__init__(
            _FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=(*RESERVED_ATTRS, "color_message"),  # uvicorn's ANSI-coloured copy of the message
            timestamp=True,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        if "request_id" not in log_data:
            request_id = current_request_id()
            if request_id is not None:
                log_data["request_id"] = request_id


def configure(level: str = "INFO") -> bool:
    """Install JSON logging on the root logger unless it has handlers already; True when it did."""
    root = logging.getLogger()
    if root.handlers:
        return False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RequestJsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in _UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    return True
