"""Logs as JSON lines, one object per record: what operators' log pipelines parse without guessing.

Every line has `time` (UTC, ISO 8601), `level`, `logger`, `message` and `pid` (which process wrote it:
with `twofold serve --workers N`, which worker); a record's `extra` fields (the
request log's `request_id`, `operation`, `duration_ms`, `actor`, `outcome`, `status`) become keys of their
own, and an exception its `exception` text.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

# Attributes every LogRecord has; anything else on a record came from `extra=`.
# uvicorn's `color_message` is its message again, with terminal colours.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: int = logging.INFO) -> None:
    """JSON lines on standard error for every logger of the process (uvicorn's included)."""
    # Neither where a call came from nor its thread is on a line: spare every record the lookups (the
    # "Optimization" section of the logging HOWTO). The request log writes one record per request.
    logging._srcfile = None
    logging.logThreads = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per Elasticsearch request drowns everything else; failures still surface as warnings.
    logging.getLogger("elastic_transport").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
