"""Section 2: each handler module's import time in a fresh interpreter, against boto3.

Every sample is a new `python` process that times one import with perf_counter (the
interpreter's own start-up is not counted). The baseline, timed the same way in the same
run, is `import boto3` plus creating one DynamoDB client — what any Python Lambda that
talks to AWS pays. Processes run one at a time, handlers and baseline interleaved, after
one discarded warm-up round (so byte-code compilation is not counted). The environment is
a deployed function's: Powertools settings as infra/constructs/function.py sets them, and
AWS_LAMBDA_FUNCTION_NAME set, so Powertools behaves as in Lambda. Tracing is Lambda's own
(active tracing, no SDK in the functions), so it adds nothing to an import.
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

# Time spent in the garbage collector during the timed code (part of the timed figure): a
# larger heap makes every collection, and so everyone's imports, slower.
_GC_CLOCK = """
import gc, time
gc_clock = [0.0, 0.0]
def _on_gc(phase, info):
    if phase == "start":
        gc_clock[1] = time.perf_counter()
    else:
        gc_clock[0] += time.perf_counter() - gc_clock[1]
gc.callbacks.append(_on_gc)
"""

_TIMED_IMPORT = (
    _GC_CLOCK
    + """
import importlib, json
gc_clock[0] = 0.0
started = time.perf_counter()
importlib.import_module({module!r})
seconds = time.perf_counter() - started
print(json.dumps({{"seconds": seconds, "gc": gc_clock[0]}}))
"""
)

_TIMED_BASELINE = (
    _GC_CLOCK
    + """
import json
gc_clock[0] = 0.0
started = time.perf_counter()
import boto3
imported = time.perf_counter()
boto3.client("dynamodb", region_name="us-east-1")
done = time.perf_counter()
found = {"seconds": done - started, "import_boto3": imported - started, "gc": gc_clock[0]}
print(json.dumps(found))
"""
)


def handler_modules() -> list[str]:
    """Every Lambda entry module in functions/handlers (read from the tree, not a list)."""
    folder = REPO / "functions" / "handlers"
    modules = [path.stem for path in folder.glob("*.py")]
    packages = [path.parent.name for path in folder.glob("*/__init__.py")]
    return sorted(
        f"functions.handlers.{name}" for name in modules + packages if not name.startswith("_")
    )


def lambda_env() -> dict[str, str]:
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
        }
    )
    return env


def _python(code: str, *, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", code]
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        command,
        cwd=REPO,
        env=lambda_env(),
        capture_output=True,
        text=True,
        check=True,
    )


def _timed(code: str) -> dict[str, float]:
    output = _python(code).stdout
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


def breakdown(module: str | None) -> dict[str, float]:
    code = f"import {module}" if module else "import boto3; boto3.client('dynamodb')"
    output = _python(code, importtime=True).stderr
    return self_time_by_package(parse_importtime(output))


# --- the run ------------------------------------------------------------------------------
def run() -> dict[str, Any]:
    modules = handler_modules()
    for module in modules:  # warm-up: byte-code, page cache
        _timed(_TIMED_IMPORT.format(module=module))
    _timed(_TIMED_BASELINE)
    samples: dict[str, list[float]] = {m: [] for m in modules}
    gc_samples: dict[str, list[float]] = {m: [] for m in modules}
    baseline: list[float] = []
    baseline_gc: list[float] = []
    boto3_only: list[float] = []
    for _ in range(RUNS):
        measured = _timed(_TIMED_BASELINE)
        baseline.append(measured["seconds"])
        baseline_gc.append(measured["gc"])
        boto3_only.append(measured["import_boto3"])
        for module in modules:
            found = _timed(_TIMED_IMPORT.format(module=module))
            samples[module].append(found["seconds"])
            gc_samples[module].append(found["gc"])
    base = median(baseline)
    handlers: list[dict[str, Any]] = []
    for module in modules:
        seconds = median(samples[module])
        handlers.append(
            {
                "module": module,
                "import_ms": round(seconds * 1000, 1),
                "gc_ms": round(median(gc_samples[module]) * 1000, 1),
                "ratio_to_baseline": round(ratio(seconds, base), 2),
                "target_met": ratio(seconds, base) <= TARGET_RATIO,
            }
        )
    slowest = max(handlers, key=lambda h: float(h["import_ms"]))
    slowest_breakdown = breakdown(str(slowest["module"]))
    return {
        "runs": RUNS,
        "baseline": BASELINE,
        "baseline_ms": round(base * 1000, 1),
        "baseline_gc_ms": round(median(baseline_gc) * 1000, 1),
        "import_boto3_ms": round(median(boto3_only) * 1000, 1),
        "target_ratio": TARGET_RATIO,
        "handlers": handlers,
        "all_met": all(h["target_met"] for h in handlers),
        "slowest": slowest["module"],
        "slowest_breakdown_s": dict(list(slowest_breakdown.items())[:10]),
        "baseline_breakdown_s": dict(list(breakdown(None).items())[:6]),
    }
