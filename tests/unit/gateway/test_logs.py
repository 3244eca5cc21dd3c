"""Logs: JSON lines carrying the bound call context; a console format for terminals."""

import io
import json
import logging

import structlog

from gateway.logs import configure_logging


def test_json_lines_carry_bound_context():
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(session_id="conv_1", call_sid="CA123")
    try:
        structlog.get_logger("test").info("turn_ended", turn_id="turn_002")
        logging.getLogger("aiohttp.server").error("boom")  # stdlib loggers come out the same way
    finally:
        structlog.contextvars.clear_contextvars()
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "turn_ended"
    assert first["session_id"] == "conv_1" and first["call_sid"] == "CA123" and first["turn_id"] == "turn_002"
    assert first["level"] == "info" and "timestamp" in first
    assert second["event"] == "boom" and second["session_id"] == "conv_1"


def test_console_format_is_human_readable_and_levels_filter():
    out = io.StringIO()
    configure_logging("console", "warning", stream=out)
    log = structlog.get_logger("test")
    log.info("hidden")
    log.warning("shown", port=8080)
    text = out.getvalue()
    assert "hidden" not in text
    assert "shown" in text and "port=8080" in text and not text.startswith("{")


def test_callers_numbers_are_masked_unless_asked_not_to():
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    log = structlog.get_logger("test")
    log.info("sip_incoming", caller="+15550001111", called="+15550100")
    log.info("call_dialing", to="sip:alice@pbx.example.com")
    log.info("sip_incoming", caller="1000")  # an extension: kept
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["caller"] == "+1555***1111" and first["called"] == "+15550100"  # our own number stays
    assert second["to"] == "sip:a***@pbx.example.com" and third["caller"] == "1000"
    out = io.StringIO()
    configure_logging("json", "info", stream=out, mask_numbers=False)
    structlog.get_logger("test").info("sip_incoming", caller="+15550001111")
    assert json.loads(out.getvalue())["caller"] == "+15550001111"
