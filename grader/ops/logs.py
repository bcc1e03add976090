"""LOG_FORMAT=json: one JSON object per line, for log shippers (stdlib only)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        for key, value in vars(record).items():  # extra=... fields
            if key not in _STANDARD and not key.startswith("_"):
                doc[key] = value if isinstance(value, int | float | str | bool) else repr(value)
        if record.exc_info:
            doc["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def use_json_logs(logger: logging.Logger | None = None) -> None:
    """Give every handler of ``logger`` (default: root) the JSON formatter."""
    for handler in (logger or logging.getLogger()).handlers:
        handler.setFormatter(JsonFormatter())
