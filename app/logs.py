"""Log lines of every process: each record carries the request id; LOG_FORMAT=json makes each
line one JSON object."""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

# The request (or sweep tick, or actor message) the current code works for; "-" outside one.
request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id (and exc_info)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc_info"] = record.exc_text
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def _install_record_factory() -> None:
    """Every log record, from any logger, carries the current request id."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "_fixline", False):
        return

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = request_id_var.get()
        return record

    factory._fixline = True
    logging.setLogRecordFactory(factory)


def configure(fmt: str = "text", level: int = logging.INFO) -> None:
    """One log format for every process, each line carrying a request id.

    Without handlers, a stderr handler in fmt is added. When a host already decided where
    logs go (dramatiq's and the scheduler's basicConfig), text keeps its format and json
    re-formats its plain stream handlers (never pytest's capture handlers, which subclass).
    """
    _install_record_factory()
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler._fixline = True
        root.addHandler(handler)
        root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, "_fixline", False):
            handler.setFormatter(JsonFormatter() if fmt == "json"
                                 else logging.Formatter(TEXT_FORMAT))
        elif type(handler) is logging.StreamHandler:
            if fmt == "json" and not isinstance(handler.formatter, JsonFormatter):
                handler._fixline_before = handler.formatter
                handler.setFormatter(JsonFormatter())
            elif fmt != "json" and hasattr(handler, "_fixline_before"):
                handler.setFormatter(handler.__dict__.pop("_fixline_before"))
