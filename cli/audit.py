"""`quietline audit export|verify`: the application audit trail, for an auditor."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import IO, Any

import click

from functions.dal.audit_log import is_event_key, partition_key
from functions.dal.schema import AUDIT_EVENT_PREFIX, AUDIT_PARTITION_KEY, AUDIT_SORT_KEY
from functions.logic.audit_chain import BreakKind, StoredEvent, VerifyReport, parse_time

CSV_COLUMNS = (
    "key",
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


def _row(stored: StoredEvent) -> dict[str, object]:
    event = asdict(stored.event)
    event["target"] = json.dumps(event["target"], sort_keys=True)
    return {"key": stored.key, "hash": stored.hash, **event}


def write_export(events: Iterable[StoredEvent], out: IO[str], fmt: str) -> int:
    """Stream events as CSV or JSON Lines; returns how many were written."""
    count = 0
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    bar: Any = click.progressbar(events, label="exporting", file=sys.stderr)  # type: ignore[operator]
    with bar:
        for stored in bar:
            if writer:
                writer.writerow(_row(stored))
            else:
                out.write(
                    json.dumps({"key": stored.key, "hash": stored.hash, **asdict(stored.event)})
                    + "\n"
                )
            count += 1
    return count


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7_200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


_BREAKS = {
    BreakKind.REMOVED: "removed (its event {key} is gone, its seal remains)",
    BreakKind.GAP: "gap (seal {seq} is missing)",
    BreakKind.EDITED: "edited (event {key} no longer matches its seal)",
    BreakKind.RELINKED: "relinked (the link does not follow its predecessor)",
}


def describe(report: VerifyReport) -> list[str]:
    """What `quietline audit verify` prints: the chain, then the unsealed tail."""
    broken = report.first_break
    if broken is None:
        retired = f"; {report.expired} more past retention" if report.expired else ""
        chain = (
            f"chain intact: {report.sealed} sealed event(s), head seal {report.head_seq}"
            f" ({report.head_hash[:16]}…){retired}"
        )
    elif broken.kind is BreakKind.UNCHAINED:
        chain = f"chain BROKEN: unchained: {broken.detail}"
    else:
        what = _BREAKS[broken.kind].format(key=broken.event_key, seq=broken.seq)
        chain = f"chain BROKEN at seal {broken.seq}: {what} (after {report.sealed} good)"
    if report.unsealed and report.oldest_unsealed_age_seconds is not None:
        tail = (
            f"unsealed tail: {report.unsealed} event(s), the oldest appended"
            f" {_age(report.oldest_unsealed_age_seconds)} ago ({report.oldest_unsealed_at})"
        )
    else:
        tail = "unsealed tail: 0 event(s)"
    return [chain, tail]


# --- the newest events against CloudTrail -----------------------------------------------------
# Removing the newest events together with their seals (or before they were sealed) leaves a
# shorter chain that still verifies: only a record kept elsewhere shows they existed. The
# stack's trail logs a data event for every write to the audit table, naming the item's
# key attributes and nothing else (never an event's fields):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/understanding-ddb-log-entries.html


@dataclass(frozen=True)
class TrailCheck:
    recorded: int  # appends CloudTrail recorded for the tenant in the window
    missing: tuple[str, ...]  # their keys that are not in the table, oldest first
    expired: int  # recorded, gone, and past their retention date: not a removal
    days: int

    @property
    def removed(self) -> bool:
        return bool(self.missing)

    def describe(self) -> str:
        if self.missing:
            return (
                f"events REMOVED: CloudTrail recorded {self.recorded} append(s) for this tenant"
                f" in the last {self.days} day(s); {len(self.missing)} of them are not in the"
                f" table (the newest: {self.missing[-1]})"
            )
        if not self.recorded:
            return f"CloudTrail recorded no append for this tenant in the last {self.days} day(s)"
        return (
            f"CloudTrail agrees: all {self.recorded - self.expired} append(s) it recorded in the"
            f" last {self.days} day(s) are in the table"
            + (f" ({self.expired} more past retention)" if self.expired else "")
        )


def recorded_event_keys(
    events: Iterable[Mapping[str, Any]], table_name: str, tenant_id: str
) -> set[str]:
    """The keys of the events CloudTrail saw appended to the tenant's partition.

    Only successful PutItem calls of event keys count: a refused append carries an
    errorCode and wrote nothing; the sealer's links and markers are not events.
    """
    partition = partition_key(tenant_id)
    found: set[str] = set()
    for event in events:
        params = event.get("requestParameters") or {}
        key = params.get("key") or {}
        sort_key = str(key.get(AUDIT_SORT_KEY, ""))
        if (
            event.get("eventSource") == "dynamodb.amazonaws.com"
            and event.get("eventName") == "PutItem"
            and not event.get("errorCode")
            and params.get("tableName") == table_name
            and key.get(AUDIT_PARTITION_KEY) == partition
            and is_event_key(sort_key)
        ):
            found.add(sort_key)
    return found


def _appended_at(key: str) -> datetime:
    return parse_time(key.removeprefix(AUDIT_EVENT_PREFIX).rsplit("#", 1)[0])


def trail_check(
    recorded: set[str], present: set[str], *, now: datetime, retention_days: int, days: int
) -> TrailCheck:
    """Which recorded appends are gone: removed, unless their retention date has passed."""
    gone = sorted(recorded - present)
    retention = timedelta(days=retention_days)
    expired = [key for key in gone if _appended_at(key) + retention <= now]
    missing = tuple(key for key in gone if key not in set(expired))
    return TrailCheck(len(recorded), missing, len(expired), days)


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
