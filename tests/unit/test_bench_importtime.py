"""Parsing `python -X importtime` for the cold-start breakdown (bench/cold_start.py)."""

from __future__ import annotations

import pytest

from bench.cold_start import ImportLine, handler_modules, parse_importtime, self_time_by_package

pytestmark = pytest.mark.unit

SAMPLE = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:       300 |        300 |     botocore.compat
import time:      1000 |       1300 |   botocore
import time:       200 |       1500 | boto3
some other stderr line
import time:        50 |         50 | functions.handlers.health
"""


def test_given_importtime_output_when_parsed_then_lines_with_depth() -> None:
    lines = parse_importtime(SAMPLE)

    assert lines[0] == ImportLine(120, 120, 1, "_io")
    assert lines[1] == ImportLine(300, 300, 2, "botocore.compat")
    assert lines[3] == ImportLine(200, 1500, 0, "boto3")
    assert len(lines) == 5


def test_given_lines_when_grouped_then_self_time_per_top_level_package_largest_first() -> None:
    totals = self_time_by_package(parse_importtime(SAMPLE))

    assert list(totals) == ["botocore", "boto3", "_io", "functions"]
    assert totals["botocore"] == pytest.approx(0.0013)


def test_handler_modules_are_read_from_the_handlers_folder() -> None:
    modules = handler_modules()

    assert "functions.handlers.api" in modules
    assert not any(m.rsplit(".", 1)[-1].startswith("_") for m in modules)
