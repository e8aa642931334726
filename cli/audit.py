"""`quietline audit export|verify`: the application audit trail, for an auditor."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from dataclasses import asdict
from typing import IO, Any

import click

from functions.logic.audit_chain import ChainedEvent, VerifyReport, verify_chain

CSV_COLUMNS = (
    "seq",
    "at",
    "tenant_id",
    "actor",
    "action",
    "outcome",
    "target",
    "request_id",
    "source_ip",
    "hash",
)


def _row(link: ChainedEvent) -> dict[str, object]:
    event = asdict(link.event)
    event["target"] = json.dumps(event["target"], sort_keys=True)
    return {"seq": link.seq, "hash": link.hash, **event}


def write_export(links: Iterable[ChainedEvent], out: IO[str], fmt: str) -> int:
    """Stream events as CSV or JSON Lines; returns how many were written."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    bar: Any = click.progressbar(links, label="exporting", file=sys.stderr)  # type: ignore[operator]
    with bar:
        for link in bar:
            if writer:
                writer.writerow(_row(link))
            else:
                out.write(
                    json.dumps({"seq": link.seq, "hash": link.hash, **asdict(link.event)}) + "\n"
                )
            count += 1
    return count


def describe(report: VerifyReport) -> str:
    if report.first_break is None:
        return f"chain intact: {report.events} event(s), head {report.head_hash[:16]}…"
    broken = report.first_break
    return (
        f"chain BROKEN at event {broken.seq}: {broken.kind.value} (after {report.events - 1} good)"
    )


def verify(links: Iterable[ChainedEvent]) -> VerifyReport:
    return verify_chain(links)
