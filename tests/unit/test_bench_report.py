"""docs/benchmarks.md is computed from the run (bench/report.py, bench/doc/).

Three guards against a document that states more than the run measured:

- Two runs in, two documents out: every line that states a figure must change when the
  figures change (a line that stays identical while carrying a number is a number typed
  into the code), and every verdict must follow its figure across the target.
- A lint on the renderers' source: no string literal outside `method(...)` may carry a
  standalone number ("3 round trips", "1.5x", "$5", "~10 ms") or a causal/predictive word
  ("dominates", "would", "because"); those belong in bench/notes.md.
- The hand-written notes appear verbatim, last, under a heading that says so.
"""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from bench import report
from bench.doc.base import PER_THOUSAND, Doc, Section, raw

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
RENDERERS = [REPO / "bench" / "report.py", *sorted((REPO / "bench" / "doc").glob("*.py"))]
MACHINE = {
    "date": "2026-01-02",
    "nproc": 2,
    "python": "3.11.7",
    "implementation": "CPython",
    "platform": "Linux",
}


# --- a synthetic run -------------------------------------------------------------------------
def _op(key: str, title: str, depth: int, target: int | None, kms: int = 1) -> dict[str, Any]:
    return {
        "key": key,
        "operation": title,
        "aws_calls": depth + kms,
        "calls_by_service": {"dynamodb": depth, "kms": kms},
        "calls_by_operation": {"dynamodb.GetItem": depth, "kms.Decrypt": kms},
        "sequence": "dynamodb.GetItem → kms.Decrypt",
        "sequential_depth": depth,
        "sequential_depth_range": [depth, depth + 1],
        "steps": ["dynamodb.GetItem, kms.Decrypt"] + ["dynamodb.GetItem"] * (depth - 1),
        "wall_ms_with_latency": 40.5 + depth,
        "wall_ms_without_latency": 12.25,
        "effective_sequential_round_trips": 4.1,
        "latency_attributable_round_trips": 2.9,
        "target_sequential_round_trips": target,
        "target_met": None,  # stale on purpose: the document judges the figure itself
        "modeled_calls": [],
        "read_units": 1.5,
        "write_units": 6.0,
        "kms_requests": kms,
        "log_bytes": 120,
    }


def _round_trips(inbound: int, thread: int) -> dict[str, Any]:
    return {
        "latency_ms": 10.0,
        "runs": 7,
        "capacity_runs": 3,
        "one_round_trip": {"wall_ms_with_latency": 14.2, "wall_ms_without_latency": 3.1},
        "operations": [
            _op("thread_read_50", "thread read (staff API)", thread, 5, kms=50),
            _op("inbound_sns", "inbound store (SNS)", inbound, 3),
            _op("inbound_first_contact", "inbound store, first contact", inbound + 1, 3, kms=2),
            _op("send", "send (sender Lambda)", 4, None, kms=2),
        ],
        "kms_inbound_batch": {
            "messages": 200,
            "first_contacts": 20,
            "kms_requests": 221,
            "kms_by_operation": {"kms.Decrypt": 1, "kms.GenerateDataKey": 220},
            "kms_per_1000_inbound": 1105.0,
        },
        "stored_sizes": {"messages": 345, "carrier_items": 362, "bytes_per_message": 786.7},
        "metric_names": ["InboundStored", "OutboundSent"],
    }


def _cold_start(ratio: float) -> dict[str, Any]:
    handler = {"import_ms": 139.0 * ratio, "gc_ms": 20.5, "ratio_to_baseline": ratio}
    return {
        "runs": 5,
        "baseline_ms": 139.0,
        "baseline_gc_ms": 10.3,
        "import_boto3_ms": 94.4,
        "target_ratio": 1.5,
        "handlers": [
            {"module": "functions.handlers.api", **handler},
            {"module": "functions.handlers.health", "import_ms": 2.2, "ratio_to_baseline": 0.02},
        ],
        "slowest": "functions.handlers.api",
        "slowest_breakdown_s": {"botocore": 0.0371, "pydantic": 0.0215},
        "baseline_breakdown_s": {"botocore": 0.0214, "boto3": 0.004},
    }


def _crypto(ours: float, key_floor: float) -> dict[str, Any]:
    rows = []
    for size in (160, 1600):
        for variant, ratio in (
            ("floor", 1.0),
            ("floor_key_object_per_call", key_floor),
            ("ours_constant_key", ours),
            ("esdk_raw_aes_committing", 140.0),
        ):
            rows.append(
                {
                    "body_chars": size,
                    "variant": variant,
                    "microseconds": round(1.5 * ratio, 2),
                    "per_second": round(1e6 / (1.5 * ratio)),
                    "ratio_to_floor": ratio,
                    "ratio_to_key_per_call_floor": round(ratio / key_floor, 2),
                    "ratio_to_esdk": round(ratio / 140.0, 3),
                }
            )
    return {
        "repeats": 7,
        "loop_seconds": 0.05,
        "esdk_version": "4.0.7",
        "target_ratio": 1.5,
        "results": rows,
        "components_us": {"new AESGCM key object": 0.74, "record to_bytes": 0.183},
    }


def _load(missing: int) -> dict[str, Any]:
    def config(name: str, senders: int, every: int, lost: int) -> dict[str, Any]:
        return {
            "name": name,
            "senders": senders,
            "duplicate_every": every,
            "seconds_per_run": 10.0,
            "per_run": [{}, {}, {}],
            "median": {
                "messages_per_second": 15.2 + senders,
                "latency_ms_p50": 40.2 * senders,
                "latency_ms_p99": 823.0,
                "errors": 0.0,
                "requests": 174.0,
                "duplicates_sent": 16.0,
            },
            "stored_check": {
                "accepted_messages": 481,
                "duplicate_requests_answered_200": 56,
                "missing": lost,
                "stored_more_than_once": 0,
                "runs_not_exactly_once": 1 if lost else 0,
                "retry_queue_at_end": 0,
                "retry_dlq_at_end": 0,
            },
            "webhook_outcomes": {"duplicate": 56, "stored": 505},
            "runtime_log": {
                "lines": 1689,
                "phone_shaped_strings": 0,
                "moto_server_errors": 0,
                "moto_copy_races": 0,
            },
        }

    return {
        "seconds_per_run": 10.0,
        "runs": 3,
        "duplicate_every": 8,
        "max_requests_per_run": 5000,
        "configurations": [
            config("many senders", 8, 8, missing),
            config("one sender", 1, 8, 0),
            config("control", 8, 0, 0),
        ],
        "throughput_ratio_to_one_sender": 0.81,
    }


def _cost(idle_usd: float) -> dict[str, Any]:
    alarms = round((idle_usd - 2.0) / 0.1)
    items = [
        {"item": "KMS customer managed keys", "quantity": 2, "unit_usd": 1.0, "monthly_usd": 2.0},
        {"item": "CloudWatch alarm metrics", "quantity": alarms, "unit_usd": 0.1},
        {"item": "Scheduled function runs", "quantity": 8760, "unit_usd": 0.000007},
    ]
    items[1]["monthly_usd"] = alarms * 0.1
    items[2]["monthly_usd"] = 0.0613
    for item in items:
        item |= {"price_key": "", "note": "", "free_tier_credit_usd": 0.0}
    return {
        "prices_as_of": "2026-01-01",
        "prices_basis": "List prices.",
        "region": "us-east-1",
        "synth_seconds": 8.7,
        "synth_errors": {},
        "variants": {
            "idle": {
                "items": items,
                "total_usd": sum(i["monthly_usd"] for i in items),
                "free_tier_credit_usd": 1.4,
                "resource_counts": {"AWS::KMS::Key": 2},
                "resources": 252,
            }
        },
        "assumptions": {"staff_users": 10, "backup_copies": 47},
        "idle_target_usd": 5.0,
        "adds": {"waf": {"items": [], "delta_usd": 7.25}},
        "variable_per_1000": {
            "mix": {"inbound_sns": 500},
            "total_usd": 0.2576,
            "by_component": {"kms": 0.156},
            "by_operation": {"inbound_sns": {"count": 500, "usd_each": 0.00002, "usd": 0.0104}},
        },
        "retention_per_1000_per_month": {"storage": 0.00018, "pitr": 0.00015, "backups": 0.0034},
        "custom_metrics_when_active": {"names": ["InboundStored"], "monthly_usd": 0.3},
    }


GOOD = {"inbound": 3, "thread": 3, "cold": 1.2, "ours": 1.3, "key_floor": 1.2, "idle": 4.5}
BAD = {"inbound": 4, "thread": 6, "cold": 1.7, "ours": 3.9, "key_floor": 2.0, "idle": 6.5}


def _run(
    *,
    inbound: int,
    thread: int,
    cold: float,
    ours: float,
    key_floor: float,
    idle: float,
    missing: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's raw results and cost figures, each target set by one argument."""
    found = {
        "round_trips": _round_trips(inbound, thread),
        "cold_start": _cold_start(cold),
        "crypto": _crypto(ours, key_floor),
        "load": _load(missing),
    }
    return found, _cost(idle)


def _render(found: dict[str, Any], cost: dict[str, Any], machine: dict[str, Any] = MACHINE) -> str:
    results = report.assemble(found, {}, machine, cost)
    return report.to_markdown(results)


def _computed_part(markdown: str) -> str:
    return markdown.split(report.NOTES_HEADING, maxsplit=1)[0]


def _row(markdown: str, section: int) -> str:
    return next(line for line in markdown.splitlines() if line.startswith(f"| §{section} |"))


# --- figures and verdicts follow the run -----------------------------------------------------
_FIGURE = re.compile(r"^[$≤≥~\u2212+-]*\d")


def _figure_tokens(line: str) -> set[str]:
    tokens = (t.strip("()[]{},.;:*`|_'\"") for t in line.split())
    return {t for t in tokens if _FIGURE.match(t)}


def _strings(value: Any) -> set[str]:
    """Every figure-like token inside a string of the results (names, dates, versions)."""
    if isinstance(value, dict):
        return set().union(*(_strings(k) | _strings(v) for k, v in value.items()), set())
    if isinstance(value, list):
        return set().union(*(_strings(v) for v in value), set())
    return _figure_tokens(value) if isinstance(value, str) else set()


def _perturbed(value: Any) -> Any:
    """Every number changed (none onto a round value), every list of records one longer."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value * 7 + 1013
    if isinstance(value, float):
        return round(value * 7.3 + 1013.7, 3)
    if isinstance(value, dict):
        return {k: _perturbed(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_perturbed(v) for v in value]
        return items + copy.deepcopy(items[-1:]) if items and isinstance(items[0], dict) else items
    return value


@pytest.mark.parametrize("knobs", [GOOD, BAD | {"missing": 3}], ids=["targets met", "missed"])
def test_given_two_runs_when_rendered_then_no_line_keeps_a_figure_the_run_did_not_give(
    knobs: dict[str, Any],
) -> None:
    found, cost = _run(**knobs)
    first = _computed_part(_render(found, cost))
    second = _computed_part(_render(_perturbed(found), _perturbed(cost), _perturbed(MACHINE)))

    from_strings = _strings(found) | _strings(cost) | _strings(MACHINE)
    unit = {f"{PER_THOUSAND:,}"}
    unchanged = set(first.splitlines()) & set(second.splitlines())
    fixed_figures = {
        line: tokens
        for line in unchanged
        if not line.startswith(("**Method.**", "#"))
        and (tokens := _figure_tokens(line) - from_strings - unit)
    }
    assert fixed_figures == {}


@pytest.mark.parametrize(
    ("section", "missed"),
    [
        (1, {"inbound": 4}),
        (1, {"thread": 6}),
        (2, {"cold": 1.7}),
        (3, {"ours": 3.9}),
        (5, {"idle": 6.5}),
        (6, {"missing": 3}),
    ],
)
def test_given_a_figure_across_its_target_when_rendered_then_the_verdict_and_advice_flip(
    section: int, missed: dict[str, Any]
) -> None:
    met_doc = _render(*_run(**GOOD))
    missed_doc = _render(*_run(**(GOOD | missed)))

    met_rows = [r for r in met_doc.splitlines() if r.startswith(f"| §{section} |")]
    missed_rows = [r for r in missed_doc.splitlines() if r.startswith(f"| §{section} |")]
    assert all(r.endswith("| **met** |") for r in met_rows)
    assert any(r.endswith("| **not met** |") for r in missed_rows)
    advice = missed_doc.split("## Recommendations")[1].split(report.NOTES_HEADING)[0]
    assert f"(§{section})" in advice
    assert "None: all" in met_doc.split("## Recommendations")[1]


def test_given_different_depths_when_rendered_then_the_targets_row_states_each_runs_figure() -> (
    None
):
    three = _row(_render(*_run(**GOOD)), 1)
    four = _row(_render(*_run(**(GOOD | {"inbound": 4}))), 1)

    assert "≤ 3 sequential round trips | 3 (" in three
    assert "≤ 3 sequential round trips | 4 (" in four
    assert "5 on a first contact" in four


def test_given_the_envelope_over_and_under_its_target_when_rendered_then_the_result_says_so() -> (
    None
):
    under = _render(*_run(**GOOD))
    over = _render(*_run(**(GOOD | {"ours": 3.9, "key_floor": 2.0})))

    assert "**Result.** Met: 1.95 µs" in under
    assert "within the 1.5\u00d7 target" in under
    assert "**Result.** Not met: 5.85 µs" in over
    assert "the key-per-field floor alone is 2\u00d7" in over.split("## Recommendations")[1]


def test_given_idle_cost_either_side_of_target_when_rendered_then_total_verdict_and_share() -> None:
    cheap = _render(*_run(**GOOD))
    dear = _render(*_run(**(GOOD | {"idle": 6.5})))

    assert "Total **$4.56 a month**" in cheap and "Target ≤ $5.00: **met**" in cheap
    assert "Total **$6.56 a month**" in dear and "Target ≤ $5.00: **not met**" in dear
    assert "CloudWatch alarm metrics ($4.50) and KMS customer managed keys ($2.00)" in dear
    assert "are 99 % of the idle total" in dear


def test_given_a_lost_message_when_rendered_then_exactly_once_is_not_claimed() -> None:
    exact = _render(*_run(**GOOD))
    lossy = _render(*_run(**GOOD, missing=3))

    assert "Every accepted message was stored exactly once" in exact
    assert "Every accepted message was stored exactly once" not in lossy
    assert "many senders: 3 missing and 0 stored twice in 1 of 3 runs" in lossy
    assert "the one-sender runs were exact" in lossy


# --- the sections' registry ------------------------------------------------------------------
def test_given_a_new_section_in_the_registry_when_rendered_then_numbered_after_the_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def body(figures: Any, _doc: Doc) -> list[str]:
        return [f"Chains verified: {figures['verified']}.", ""]

    def targets(figures: Any, _doc: Doc) -> list[dict[str, Any]]:
        return [{"target": "every chain verifies", "measured": "", "met": figures["ok"]}]

    extra = Section("example", "Example", raw("example"), body, targets)
    monkeypatch.setattr(report, "SECTIONS", (*report.SECTIONS, extra))
    found, cost = _run(**GOOD)

    markdown = _render(found | {"example": {"verified": 12, "ok": False}}, cost)

    assert f"## {len(report.SECTIONS)}. Example\n\nChains verified: 12." in markdown
    assert _row(markdown, len(report.SECTIONS)).endswith("| **not met** |")


def test_given_a_section_without_figures_when_rendered_then_left_out_and_others_keep_numbers() -> (
    None
):
    found, cost = _run(**GOOD)
    del found["crypto"]

    markdown = _render(found, cost)

    assert "Envelope encryption (KMS" not in markdown
    assert "## 4. KMS and DynamoDB usage" in markdown


def test_given_the_stored_results_when_rendered_again_then_every_section_present_renders() -> None:
    stored = json.loads((REPO / "docs" / "benchmarks.json").read_text(encoding="utf-8"))
    results = report.assemble(
        stored["raw"], stored.get("section_seconds", {}), stored["machine"], stored.get("cost")
    )

    markdown = report.to_markdown(results)

    present = [s for s in report.SECTIONS if s.figures(results)]
    assert present
    for number, section in enumerate(report.SECTIONS, 1):
        assert (f"## {number}. {section.title}" in markdown) == (section in present)


# --- the hand-written notes ------------------------------------------------------------------
def test_given_any_run_when_rendered_then_the_notes_come_last_verbatim_under_their_heading() -> (
    None
):
    markdown = _render(*_run(**GOOD))

    _computed, notes = markdown.split(report.NOTES_HEADING)
    assert notes.rstrip().endswith(report.NOTES_PATH.read_text(encoding="utf-8").strip())
    assert "## " not in notes.replace("### ", "")


def test_every_hand_written_note_says_when_it_was_written() -> None:
    headings = [
        line
        for line in report.NOTES_PATH.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    ]

    assert headings
    for heading in headings:
        assert re.search(r"\(written \d{4}-\d{2}-\d{2}\)$", heading), heading


# --- the lint on the renderers' source -------------------------------------------------------
_CLAIMS = re.compile(
    r"dominat|\bwould\b|\bshould\b|\bbecause\b|which is why|nearly all|\bmostly\b|most of"
    r"|\blikely\b|\bexpect",
    re.IGNORECASE,
)


def claims_in_literals(source: str) -> list[tuple[int, str]]:
    """String literals that state a figure or a cause outside `method(...)`.

    A standalone number is a token that starts with a digit (after `$`, `~`, a sign or `≤`):
    "3", "1.5x", "$5", "~10". Names that merely contain digits ("p50", "AES-256-GCM", "S3")
    do not count.
    Docstrings, format specs and `method(...)` arguments (how a figure is measured) are
    exempt; everything else a renderer says must come from a placeholder.
    """
    tree = ast.parse(source)
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "method":
            exempt |= {id(sub) for sub in ast.walk(node)}
        if isinstance(node, ast.FormattedValue) and node.format_spec:
            exempt |= {id(sub) for sub in ast.walk(node.format_spec)}
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                exempt.add(id(first.value))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in exempt
        ):
            flagged = _figure_tokens(node.value) | set(_CLAIMS.findall(node.value))
            found += [(node.lineno, token) for token in flagged]
    return sorted(found)


def test_given_planted_claims_when_linted_then_each_is_found_and_method_text_is_not() -> None:
    source = (
        "def body(op):\n"
        "    return [\n"
        "        f\"{op['name']} takes 3 round trips\",\n"
        "        f\"raising the pool would give {op['depth']}\",\n"
        '        "about 1.5\\u00d7 the floor, ~10 ms",\n'
        "        f\"{op['p50']:>10} p50 ms over AES-256-GCM\",\n"
        '        method("7 runs, because moto", f"{op[\'runs\']} rounds of 2"),\n'
        "    ]\n"
    )

    assert claims_in_literals(source) == [
        (3, "3"),
        (4, "would"),
        (5, "1.5\u00d7"),
        (5, "~10"),
    ]


@pytest.mark.parametrize("path", RENDERERS, ids=lambda p: p.name)
def test_given_a_renderer_when_linted_then_no_literal_states_a_figure_or_a_cause(
    path: Path,
) -> None:
    assert claims_in_literals(path.read_text(encoding="utf-8")) == []
