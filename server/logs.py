"""Log lines for people (`text`) or for log shippers (`json`: one object per line), for our loggers and uvicorn's.

`handsup serve` hands `log_config(settings)` to uvicorn, which applies it before anything logs. A record's
`extra=` fields (session_id, method, path, status, duration_ms, client) become keys of its JSON object.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from server.config import Settings

# What every LogRecord has; anything else on a record came in through `extra=` and is worth a key of its own.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
_HIDDEN = frozenset({"color_message"})  # uvicorn's coloured copy of the message
OUR_LOGGERS = ("handsup", "server", "activities", "uvicorn", "uvicorn.error", "uvicorn.access")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the record's extra fields, and
    the traceback (as one string) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in _HIDDEN and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_config(settings: Settings) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config`: everything to standard error, one format.

    uvicorn's own access log is left off: `handsup.access` (server/metrics.py) writes one line per request with
    its duration and per websocket when it closes."""
    level = settings.log_level.upper()
    formatter: dict[str, Any] = (
        {"()": JsonFormatter}
        if settings.log_format == "json"
        else {"format": TEXT_FORMAT, "datefmt": "%Y-%m-%dT%H:%M:%S%z"}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"handsup": formatter},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "handsup", "stream": "ext://sys.stderr"}
        },
        # Libraries speak at warning and above; ours and uvicorn's at the chosen level. uvicorn's loggers pass their
        # records up to the root's handler instead of keeping handlers of their own.
        "root": {"handlers": ["stderr"], "level": "WARNING"},
        "loggers": {name: {"handlers": [], "level": level, "propagate": True} for name in OUR_LOGGERS},
    }
