"""The redacting logger: the last line of defence against PHI in CloudWatch Logs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aws_lambda_powertools import Logger

from functions.core.observability import make_logger, redact
from tests.phi_samples import BODY, CLIENT_PHONE

REDACTED = "[redacted]"  # what a log line shows in place of PHI

pytestmark = pytest.mark.unit


def _capture(name: str) -> tuple[Logger, io.StringIO]:
    stream = io.StringIO()
    return make_logger(name, logging.StreamHandler(stream)), stream


def test_phone_shapes_are_masked_in_free_text() -> None:
    for shaped in (CLIENT_PHONE, "+1 (206) 555-0142", "(206) 555-0142", "206.555.0142"):
        assert redact(f"reply from {shaped} failed") == f"reply from {REDACTED} failed"


def test_timestamps_and_ids_are_not_mistaken_for_numbers() -> None:
    text = "at 2026-11-28T10:00:00.000Z id 01JMSG0000000000000000000A epoch 1764324000"
    assert redact(text) == text


def test_fields_named_like_phi_are_dropped_whatever_their_value() -> None:
    record = {"body": BODY, "nested": {"From": CLIENT_PHONE, "count": 3}, "items": [{"to": "x"}]}
    assert redact(record) == {
        "body": REDACTED,
        "nested": {"From": REDACTED, "count": 3},
        "items": [{"to": REDACTED}],
    }


def test_a_log_line_with_phi_in_message_extra_and_exception_comes_out_clean() -> None:
    logger, stream = _capture("redaction-test")
    try:
        raise ValueError(f"bad number {CLIENT_PHONE}")
    except ValueError:
        logger.exception("send failed for %s", CLIENT_PHONE, extra={"body": BODY})
    line = json.loads(stream.getvalue())
    assert CLIENT_PHONE not in stream.getvalue() and BODY not in stream.getvalue()
    assert line["body"] == REDACTED
    assert line["message"] == f"send failed for {REDACTED}"
    assert "ValueError" in line["exception"]
