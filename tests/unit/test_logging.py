"""Logs are JSON lines, stdlib loggers included, with personal data masked in every value."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import structlog

CITIZEN_ID = "110101199003071234"
MASKED_ID = "1101**********1234"


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_a_citizen_id_in_a_log_line_comes_out_masked(log_buffer: io.StringIO) -> None:
    structlog.get_logger("buchumen.test").info(f"applicant {CITIZEN_ID} submitted")

    [line] = lines(log_buffer)
    assert line["event"] == f"applicant {MASKED_ID} submitted"
    assert CITIZEN_ID not in log_buffer.getvalue()
    assert line["level"] == "info"
    assert line["logger"] == "buchumen.test"
    assert line["timestamp"].endswith("Z")


def test_values_are_masked_recursively_and_other_types_kept(log_buffer: io.StringIO) -> None:
    structlog.get_logger().warning(
        "lookup", who={"ids": [CITIZEN_ID]}, phone="13812345678", attempts=3, ok=False
    )

    [line] = lines(log_buffer)
    assert line["who"] == {"ids": [MASKED_ID]}
    assert line["phone"] == "138****5678"
    assert line["attempts"] == 3
    assert line["ok"] is False


def test_stdlib_loggers_such_as_the_access_log_are_json_and_masked(
    log_buffer: io.StringIO,
) -> None:
    access = logging.getLogger("aiohttp.access")
    access.info('127.0.0.1 "GET /api/v1/cases?id=%s HTTP/1.1" 200 17', CITIZEN_ID)

    [line] = lines(log_buffer)
    assert line["logger"] == "aiohttp.access"
    assert line["event"] == f'127.0.0.1 "GET /api/v1/cases?id={MASKED_ID} HTTP/1.1" 200 17'


def test_tracebacks_are_masked_too(log_buffer: io.StringIO) -> None:
    try:
        raise ValueError(f"no case for {CITIZEN_ID}")
    except ValueError:
        structlog.get_logger().exception("lookup failed")

    [line] = lines(log_buffer)
    assert f"ValueError: no case for {MASKED_ID}" in line["exception"]


def test_events_below_the_level_are_dropped(log_buffer: io.StringIO) -> None:
    structlog.get_logger().debug("noise")
    logging.getLogger("somewhere").debug("more noise")

    assert log_buffer.getvalue() == ""
