"""Section 2: each handler module's import time in a fresh interpreter, against boto3.

Every sample is a new `python` process that times one import with perf_counter (the
interpreter's own start-up is not counted). The baseline, timed the same way in the same
run, is `import boto3` plus creating one DynamoDB client — what any Python Lambda that
talks to AWS pays. Processes run one at a time, handlers and baseline interleaved, after
one discarded warm-up round (so byte-code compilation is not counted). The environment is
a deployed function's: Powertools settings as infra/constructs/function.py sets them,
tracing on (so the X-Ray SDK loads and patches botocore, as it does in Lambda).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.stats import median, ratio

REPO = Path(__file__).resolve().parent.parent
RUNS = 5
TARGET_RATIO = 1.5
BASELINE = "boto3 + one client"

_TIMED_IMPORT = """
import importlib, json, time
started = time.perf_counter()
importlib.import_module({module!r})
print(json.dumps({{"seconds": time.perf_counter() - started}}))
"""

_TIMED_BASELINE = """
import json, time
started = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("dynamodb", region_name="us-east-1")
done = time.perf_counter()
print(json.dumps({"seconds": done - started, "import_boto3": imported - started}))
"""


def handler_modules() -> list[str]:
    """Every Lambda entry module in functions/handlers (read from the tree, not a list)."""
    folder = REPO / "functions" / "handlers"
    return sorted(
        f"functions.handlers.{path.stem}"
        for path in folder.glob("*.py")
        if not path.stem.startswith("_")
    )


def lambda_env(*, tracing: bool = True) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "QUIETLINE_", "AWS_ENDPOINT"))
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        {
            "PYTHONPATH": str(REPO),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": "quietline-bench",
            "POWERTOOLS_SERVICE_NAME": "quietline",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_LOGGER_LOG_EVENT": "false",
            "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
            "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
        }
    )
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    return env


def _python(
    code: str, *, importtime: bool = False, tracing: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        command,
        cwd=REPO,
        env=lambda_env(tracing=tracing),
        capture_output=True,
        text=True,
        check=True,
    )


def _timed(code: str, *, tracing: bool = True) -> dict[str, float]:
    output = _python(code, tracing=tracing).stdout
    found: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return found


# --- -X importtime ---------------------------------------------------------------------
@dataclass(frozen=True)
class ImportLine:
    self_us: int
    cumulative_us: int
    depth: int
    module: str


def parse_importtime(stderr: str) -> list[ImportLine]:
    """Lines of `python -X importtime` ("import time: self | cumulative | name")."""
    lines = []
    for raw in stderr.splitlines():
        if not raw.startswith("import time:"):
            continue
        parts = raw[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        name = parts[2].rstrip()
        indent = len(name) - len(name.lstrip(" ")) - 1
        lines.append(ImportLine(int(parts[0]), int(parts[1]), max(indent, 0) // 2, name.strip()))
    return lines


def self_time_by_package(lines: list[ImportLine]) -> dict[str, float]:
    """Seconds of import work per top-level package (self times summed), largest first."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.module.split(".")[0]] += line.self_us
    return {name: round(us / 1e6, 4) for name, us in sorted(totals.items(), key=lambda kv: -kv[1])}


def breakdown(module: str | None, *, tracing: bool = True) -> dict[str, float]:
    code = f"import {module}" if module else "import boto3; boto3.client('dynamodb')"
    output = _python(code, importtime=True, tracing=tracing).stderr
    return self_time_by_package(parse_importtime(output))


# --- the run ------------------------------------------------------------------------------
def run() -> dict[str, Any]:
    modules = handler_modules()
    for module in modules:  # warm-up: byte-code, page cache
        _timed(_TIMED_IMPORT.format(module=module))
    _timed(_TIMED_BASELINE)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    baseline: list[float] = []
    boto3_only: list[float] = []
    for _ in range(RUNS):
        measured = _timed(_TIMED_BASELINE)
        baseline.append(measured["seconds"])
        boto3_only.append(measured["import_boto3"])
        for module in modules:
            code = _TIMED_IMPORT.format(module=module)
            samples[module].append(_timed(code)["seconds"])
    base = median(baseline)
    handlers: list[dict[str, Any]] = []
    for module in modules:
        seconds = median(samples[module])
        handlers.append(
            {
                "module": module,
                "import_ms": round(seconds * 1000, 1),
                "ratio_to_baseline": round(ratio(seconds, base), 2),
                "target_met": ratio(seconds, base) <= TARGET_RATIO,
            }
        )
    slowest = max(handlers, key=lambda h: float(h["import_ms"]))
    slowest_breakdown = breakdown(str(slowest["module"]))
    # aws_xray_sdk is imported whenever Powertools' Tracer is built, traced or not.
    xray_ms = 1000 * slowest_breakdown.get("aws_xray_sdk", 0.0)
    traced_off = breakdown(str(slowest["module"]), tracing=False).get("aws_xray_sdk", 0.0)
    return {
        "runs": RUNS,
        "baseline": BASELINE,
        "baseline_ms": round(base * 1000, 1),
        "import_boto3_ms": round(median(boto3_only) * 1000, 1),
        "target_ratio": TARGET_RATIO,
        "handlers": handlers,
        "all_met": all(h["target_met"] for h in handlers),
        "slowest": slowest["module"],
        "slowest_breakdown_s": dict(list(slowest_breakdown.items())[:10]),
        "xray_sdk_ms_in_slowest": round(xray_ms, 1),
        "xray_sdk_ms_with_tracing_disabled": round(traced_off * 1000, 1),
        "slowest_ratio_without_xray_sdk_estimate": round(
            ratio(float(slowest["import_ms"]) - xray_ms, base * 1000), 2
        ),
        "baseline_breakdown_s": dict(list(breakdown(None).items())[:6]),
    }
