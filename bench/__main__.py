"""`python -m bench` (`make bench`): run every section, write docs/benchmarks.{md,json}.

`python -m bench --only crypto --only cost` re-runs some sections and merges them into the
existing docs/benchmarks.json (the cost model reuses the stored round-trip figures) before
writing both files again; `--no-write` prints the JSON instead.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from bench import environment

DOCS = Path(__file__).resolve().parent.parent / "docs"
JSON_PATH = DOCS / "benchmarks.json"
MD_PATH = DOCS / "benchmarks.md"
README = DOCS.parent / "README.md"
SECTIONS = (
    "cost_synth",
    "cold_start",
    "crypto",
    "round_trips",
    "load",
    "audit",
    "memory",
    "voice",
    "crisis",
    "usage_hour",  # #17 item 4: usage per staff-hour, live updates (bench/usage_hour.py)
    "scheduling",
)


def _run_section(name: str) -> dict[str, Any]:
    # Imported here: the environment must be prepared before any function module loads.
    if name == "cost_synth":
        from bench import cost  # noqa: PLC0415

        synthesis = cost.synthesize()
        return {
            "seconds": round(synthesis.seconds, 1),
            "errors": synthesis.errors,
            "templates": synthesis.templates,
        }
    if name not in SECTIONS:
        raise ValueError(name)
    measured: dict[str, Any] = importlib.import_module(f"bench.{name}").run()
    return measured


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _render_only() -> int:
    from bench import report  # noqa: PLC0415

    stored = json.loads(JSON_PATH.read_text(encoding="utf-8"))
    results = report.assemble(
        stored["raw"], stored.get("section_seconds", {}), stored["machine"], stored.get("cost")
    )
    results["total_seconds"] = stored.get("total_seconds")
    JSON_PATH.write_text(report.to_json(results), encoding="utf-8")
    MD_PATH.write_text(report.to_markdown(results), encoding="utf-8")
    _say(f"bench: rebuilt {MD_PATH.name} from {JSON_PATH.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run these only")
    parser.add_argument("--no-write", action="store_true", help="print JSON, write nothing")
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: rebuild benchmarks.md from the figures in benchmarks.json",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        return _render_only()

    environment.ensure(sys.argv[1:] if argv is None else argv)
    warnings.filterwarnings("ignore")
    from bench import report  # noqa: PLC0415

    chosen = args.only or list(SECTIONS)
    previous: dict[str, Any] = {}
    if args.only and JSON_PATH.exists():
        previous = json.loads(JSON_PATH.read_text(encoding="utf-8"))
    raw: dict[str, Any] = dict(previous.get("raw", {}))
    timings: dict[str, float] = dict(previous.get("section_seconds", {}))
    started = time.perf_counter()
    for name in chosen:
        _say(f"bench: {name} ...")
        began = time.perf_counter()
        raw[name] = _run_section(name)
        timings[name] = round(time.perf_counter() - began, 1)
        _say(f"bench: {name} done in {timings[name]} s")
    results = report.assemble(raw, timings, environment.machine(), previous.get("cost"))
    if not args.only:
        results["total_seconds"] = round(time.perf_counter() - started, 1)
    else:
        results["total_seconds"] = previous.get("total_seconds")
    document = report.to_json(results)
    if args.no_write:
        sys.stdout.write(document)
        return 0
    JSON_PATH.write_text(document, encoding="utf-8")
    MD_PATH.write_text(report.to_markdown(results), encoding="utf-8")
    _say(f"bench: wrote {MD_PATH.name} and {JSON_PATH.name}")
    if "cost_synth" in chosen:
        from bench.doc import lifetime  # noqa: PLC0415

        figures = results.get("cost", {}).get("lifetime", {})
        README.write_text(
            lifetime.replace_readme_block(
                README.read_text(encoding="utf-8"), lifetime.readme_table(figures)
            ),
            encoding="utf-8",
        )
        for line in lifetime.summary(figures):
            _say(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
