"""Structured logs, one JSON object a line, with personal data masked in every value.

Both structlog loggers and stdlib loggers (``aiohttp.access``, ``aiohttp.server``, libraries)
go through one stdlib handler whose formatter runs the same processors, so every line has the
same shape and passes the same mask (PIPL: ID numbers and phone numbers never reach the logs).
Whatever grants access is cut out of every value too: a signed link's ``sig``, an OAuth
``code``, tokens and WeChat's signatures in a query string (the access log writes
the request line and the Referer in full), and the signature in a receipt's or a certificate's
QR link path.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from app.domain.identity import mask_sensitive

_HANDLER_NAME = "buchumen"
_LEADING_KEYS = ("timestamp", "level", "logger", "event")

REDACTED = "[redacted]"
# Query parameters that are keys, not data: whoever reads them may open what they open.
# Not ``state``: OAuth's opens nothing without its cookie, and the queue filters cases by it.
SECRET_PARAMS = ("sig", "code", "token", "access_token", "msg_signature", "signature")
_SECRET_QUERY = re.compile(
    r"(?<=[?&;])(" + "|".join(SECRET_PARAMS) + r")=[^&;\s\"'#]*", re.IGNORECASE
)
# Pages whose last path segment is the signature: receipts and certificate checks (QR codes).
_SECRET_PATH = re.compile(r"(/(?:h5/receipts|q|verify)/[^/\s?#\"']+/)[^/\s?#\"']+")


def redact_secrets(text: str) -> str:
    """``text`` with the values of access-granting query parameters and path signatures cut."""
    text = _SECRET_QUERY.sub(lambda match: f"{match.group(1)}={REDACTED}", text)
    return _SECRET_PATH.sub(lambda match: match.group(1) + REDACTED, text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_sensitive(redact_secrets(value))
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    # Anything else would be rendered by its repr; mask that text instead.
    return mask_sensitive(redact_secrets(repr(value)))


def mask_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Processor: mask ID numbers, USCCs and mobile numbers, and cut secrets (see
    ``redact_secrets``), in every value, recursively."""
    return {key: _masked(value) for key, value in event_dict.items()}


def _leading_keys(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Processor: put when, how bad, where and what first, so a line reads left to right."""
    first = {key: event_dict.pop(key) for key in _LEADING_KEYS if key in event_dict}
    return {**first, **event_dict}


def _renderer(fmt: str) -> Processor:
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    if fmt == "json":
        return structlog.processors.JSONRenderer(ensure_ascii=False, sort_keys=False)
    raise ValueError(f"unknown log format {fmt!r} (expected 'json' or 'console')")


def configure_logging(
    level: str = "INFO", fmt: str = "json", *, stream: TextIO | None = None
) -> None:
    """Send structlog and stdlib logs at ``level`` and above to ``stream`` (stderr) as ``fmt``.

    Calling it again replaces the previous configuration, so tests may point it at a buffer.
    """
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")

    # Added to every event, whether it comes from structlog or from a stdlib logger.
    stamp: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=stamp,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.StackInfoRenderer(),
            # Tracebacks become text before the mask, so values in them are masked too.
            structlog.processors.format_exc_info,
            mask_personal_data,
            _leading_keys,
            _renderer(fmt),
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)

    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(numeric_level)

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *stamp,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
