"""`quietline audit export|verify`: the application audit trail, for an auditor."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import IO, Any

import click

from functions.dal.audit_log import partition_key
from functions.dal.schema import AUDIT_PARTITION_KEY, AUDIT_SORT_KEY
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


# --- the chain's end against CloudTrail ------------------------------------------------------
# A chain that lost its newest events is still a valid chain: only a record kept elsewhere
# shows the end is gone. The stack's trail logs a data event for every write to the audit
# table, naming the item's key attributes and nothing else (never an event's fields):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/understanding-ddb-log-entries.html


@dataclass(frozen=True)
class TrailCheck:
    recorded_head: int | None  # the newest append CloudTrail recorded for the tenant
    table_head: int  # the newest event of the intact chain in the table (0: none)
    days: int

    @property
    def truncated(self) -> bool:
        return self.recorded_head is not None and self.recorded_head > self.table_head

    def describe(self) -> str:
        if self.truncated:
            return (
                f"chain TRUNCATED: CloudTrail recorded appends up to event {self.recorded_head},"
                f" the table ends at event {self.table_head}"
            )
        if self.recorded_head is None:
            return f"CloudTrail recorded no append for this tenant in the last {self.days} day(s)"
        return (
            f"CloudTrail agrees: its newest append in the last {self.days} day(s) is event"
            f" {self.recorded_head}, the table's head is {self.table_head}"
        )


def recorded_head(
    events: Iterable[Mapping[str, Any]], table_name: str, tenant_id: str
) -> int | None:
    """The highest sequence number CloudTrail saw written to the tenant's chain.

    Only successful PutItem calls count: a concurrent writer's refused append (its
    condition failed) carries an errorCode and wrote nothing.
    """
    partition = partition_key(tenant_id)
    highest: int | None = None
    for event in events:
        params = event.get("requestParameters") or {}
        key = params.get("key") or {}
        if (
            event.get("eventSource") != "dynamodb.amazonaws.com"
            or event.get("eventName") != "PutItem"
            or event.get("errorCode")
            or params.get("tableName") != table_name
            or key.get(AUDIT_PARTITION_KEY) != partition
        ):
            continue
        seq = str(key.get(AUDIT_SORT_KEY, ""))
        if seq.isdigit():
            highest = max(highest or 0, int(seq))
    return highest


def trail_events(
    logs: Any, log_group: str, table_name: str, since_ms: int
) -> Iterator[dict[str, Any]]:
    """The trail's events that mention the audit table, from its CloudWatch Logs group."""
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=log_group, startTime=since_ms, filterPattern=f'"{table_name}"'
    )
    for page in pages:
        for entry in page.get("events", []):
            try:
                event = json.loads(entry["message"])
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event
