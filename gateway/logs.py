"""structlog set-up: one renderer for our own events and for stdlib loggers (aiohttp), on stderr.

Context (channel, session_id, call_id, turn_id) is bound with
`structlog.contextvars.bind_contextvars` where a unit of work begins and
stamped on every line by the merge processor, so deep helpers log without
being handed ids.
"""

import logging
import re
import sys

import structlog

# Fields that hold a caller's (or, calling out, a callee's) number or SIP address: personal data.
_PERSONAL = frozenset({"caller", "to"})
_DIGITS = re.compile(r"\d")


def mask_number(value: str) -> str:
    """A number or SIP address, masked: +15550001111 -> +1555***1111, sip:alice@pbx -> sip:a***@pbx. Enough to
    tell calls apart, not to call anyone back. Short values (extensions) are kept."""
    if "@" in value:
        user, _, host = value.partition("@")
        scheme, colon, name = user.rpartition(":")
        return f"{scheme}{colon}{name[:1]}***@{host}" if name else value
    digits = len(_DIGITS.findall(value))
    if digits <= 6:
        return value
    return value[:5] + "***" + value[-4:]


def mask_personal_fields(logger, method: str, event: dict) -> dict:
    """structlog processor: callers' numbers are masked in every log line ([log] mask_numbers)."""
    for name in _PERSONAL & event.keys():
        if isinstance(event[name], str):
            event[name] = mask_number(event[name])
    return event


def configure_logging(fmt: str = "auto", level: str = "info", stream=None, mask_numbers: bool = True) -> None:
    """Configure once per process. `fmt`: console, json, or auto (console on a terminal)."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        *([mask_personal_fields] if mask_numbers else []),
    ]
    if fmt == "json":
        renderer = [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=stream.isatty())]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per HTTP request is noise at info level; keep aiohttp's errors.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # a line per transcription otherwise
