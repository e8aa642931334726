"""The audit-log section: concurrent audited appends, none refused, and how soon they are sealed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.doc.base import Doc, Figures, Lines, Section, method, num, raw, table


def _fmt(value: float | None) -> str:
    return "—" if value is None else num(value)


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    attempted = data["appends_per_run"] * data["runs"]
    return [
        {
            "target": f"{data['appends_per_run']} concurrent audited appends: none refused",
            "measured": f"{data['failures_total']} of {attempted} refused over {data['runs']} runs",
            "met": data["failures_total"] == 0,
        }
    ]


def body(data: Figures, _doc: Doc) -> Lines:
    runs: Sequence[Mapping[str, Any]] = data["per_run"]
    attempted = data["appends_per_run"] * data["runs"]
    refused = data["failures_total"]
    intact = sum(1 for r in runs if r["verify_ok"])
    fully_sealed = sum(1 for r in runs if r["sealed"] == r["stored"] and r["verify_unsealed"] == 0)
    med = data["median"]
    interval_ms = data["poll_interval_s"] * 1000
    rows = [
        (
            n,
            r["failures"],
            r["stored"],
            r["sealed"],
            f"{'intact' if r['verify_ok'] else 'BROKEN'}, {r['verify_sealed']} sealed, "
            f"{r['verify_unsealed']} unsealed",
            _fmt(r["append_ms_p50"]),
            _fmt(r["append_ms_p99"]),
            _fmt(r["seal_lag_ms_p50"]),
            _fmt(r["seal_lag_ms_p99"]),
        )
        for n, r in enumerate(runs, 1)
    ]
    summary = (
        f"{refused} of {attempted} appends were refused"
        + (": every audited request stored its event." if refused == 0 else ".")
        + f" The chain verified intact in {intact} of {len(runs)} runs, with every stored "
        f"event sealed and nothing left unsealed in {fully_sealed} of {len(runs)}. Medians: "
        f"append p50 {_fmt(med['append_ms_p50'])} ms, p99 {_fmt(med['append_ms_p99'])} ms; "
        f"sealing lag p50 {_fmt(med['seal_lag_ms_p50'])} ms, "
        f"p99 {_fmt(med['seal_lag_ms_p99'])} ms."
    )
    per_link = med["seal_ms_per_link"]
    if per_link is not None:
        summary += (
            f" The sealer wrote a link every {_fmt(per_link)} ms (median, first link to last), "
            f"against a poll interval of {_fmt(interval_ms)} ms."
        )
    return [
        method(
            "each run starts an empty audit table on moto in-process (the schema's definition, "
            "stream included) and the sealer as local mode runs it: the real handler fed by "
            f"`local/streams.py`'s poller, polling every {_fmt(interval_ms)} ms on a background "
            f"thread. {data['appends_per_run']} threads then append one audited event each for "
            "the same tenant, released together by a barrier. Append latency is each `append` "
            "call's wall time; the sealing lag is the link's `sealed_at` minus the moment the "
            "event's append returned. After the run the tenant's chain is verified. "
            f"{data['runs']} runs; medians of the per-run percentiles."
        ),
        "",
        table(
            (
                "Run",
                "Refused",
                "Stored",
                "Sealed",
                "verify",
                "Append p50 ms",
                "Append p99 ms",
                "Sealing lag p50 ms",
                "Sealing lag p99 ms",
            ),
            rows,
        ),
        "",
        summary,
        "",
    ]


SECTION = Section("audit", "Audit appends under concurrency", raw("audit"), body, targets)
