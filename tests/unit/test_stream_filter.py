"""The Lambda event-filter subset local mode's stream poller applies (local/streams.py)."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dal.schema import AUDIT_SEALER_FILTER
from local.streams import matches

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("pattern", "record", "expected"),
    [
        ({"a": ["x"]}, {"a": "x"}, True),
        ({"a": ["x", "y"]}, {"a": "y"}, True),
        ({"a": ["x"]}, {"a": "z"}, False),
        ({"a": ["x"]}, {}, False),
        ({"a": [{"prefix": "E#"}]}, {"a": "E#1"}, True),
        ({"a": [{"prefix": "E#"}]}, {"a": "S#1"}, False),
        ({"a": [{"exists": True}]}, {"a": 1}, True),
        ({"a": [{"exists": False}]}, {"a": 1}, False),
        ({"a": [{"exists": False}]}, {}, True),
        ({"a": {"b": ["x"]}}, {"a": {"b": "x"}}, True),
        ({"a": {"b": ["x"]}}, {"a": "x"}, False),
    ],
)
def test_the_filter_grammar(
    pattern: dict[str, Any], record: dict[str, Any], expected: bool
) -> None:
    assert matches(pattern, record) is expected


def test_an_unsupported_filter_operator_is_refused_not_ignored() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        matches({"a": [{"anything-but": ["x"]}]}, {"a": "y"})


def _record(event_name: str, sort_key: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {"Keys": {"seq": {"S": sort_key}}}}


@pytest.mark.parametrize(
    ("event_name", "sort_key", "expected"),
    [
        ("INSERT", "E#2026-11-28T10:00:00.000Z#ab", True),
        ("INSERT", "S#000000000001", False),
        ("INSERT", "M#E#2026-11-28T10:00:00.000Z#ab", False),
        ("MODIFY", "E#2026-11-28T10:00:00.000Z#ab", False),
        ("REMOVE", "E#2026-11-28T10:00:00.000Z#ab", False),
    ],
)
def test_the_sealer_receives_new_events_only(
    event_name: str, sort_key: str, expected: bool
) -> None:
    assert matches(AUDIT_SEALER_FILTER, _record(event_name, sort_key)) is expected
