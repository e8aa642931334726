"""The audit section of the benchmark document (bench/doc/audit.py): every stated result comes
from the run's figures."""

from __future__ import annotations

from typing import Any

import pytest

from bench.doc.audit import body, targets
from bench.doc.base import Doc

pytestmark = pytest.mark.unit


def _run(**overrides: Any) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "failures": 0,
        "stored": 50,
        "sealed": 50,
        "verify_ok": True,
        "verify_sealed": 50,
        "verify_unsealed": 0,
        "append_ms_p50": 2.0,
        "append_ms_p99": 90.0,
        "seal_lag_ms_p50": 1200.0,
        "seal_lag_ms_p99": 2600.0,
        "seal_ms_per_link": 48.0,
    }
    return {**figures, **overrides}


def section(data: dict[str, Any]) -> list[str]:
    return body(data, Doc({}, {}))


def target(data: dict[str, Any]) -> dict[str, Any]:
    (row,) = targets(data, Doc({}, {}))
    return row


def _data(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "appends_per_run": 50,
        "runs": len(runs),
        "poll_interval_s": 0.25,
        "per_run": runs,
        "failures_total": sum(r["failures"] for r in runs),
        "median": {
            "append_ms_p50": 2.0,
            "append_ms_p99": 90.0,
            "seal_lag_ms_p50": 1200.0,
            "seal_lag_ms_p99": 2600.0,
            "seal_ms_per_link": 48.0,
        },
    }


def test_no_refusal_meets_the_target_and_says_so() -> None:
    data = _data([_run(), _run()])

    text = "\n".join(section(data))

    assert target(data)["met"] is True
    assert "0 of 100 appends were refused: every audited request stored its event." in text
    assert "intact in 2 of 2 runs" in text


def test_a_refused_append_fails_the_target_and_the_text_does_not_claim_otherwise() -> None:
    data = _data([_run(failures=3, stored=47, sealed=47, verify_sealed=47), _run()])

    text = "\n".join(section(data))

    assert target(data) == {
        "target": "50 concurrent audited appends: none refused",
        "measured": "3 of 100 refused over 2 runs",
        "met": False,
    }
    assert "3 of 100 appends were refused." in text
    assert "every audited request stored its event" not in text


def test_a_broken_or_unsealed_run_is_counted_in_the_text() -> None:
    data = _data([_run(verify_ok=False), _run(verify_unsealed=2, sealed=48)])

    text = "\n".join(section(data))

    assert "intact in 1 of 2 runs" in text
    assert "nothing left unsealed in 1 of 2" in text  # the second left two


def test_the_sealing_pace_is_stated_from_the_measured_time_per_link() -> None:
    text = "\n".join(section(_data([_run()])))

    assert "a link every 48 ms" in text and "a poll interval of 250 ms" in text
