"""The per-tenant hash chain of audit events: how each link is computed and checked.

Event n stores hash_n = SHA-256(hash_{n-1} || canonical JSON of event n), with hash_0 a
fixed genesis value. Deleting, editing or reordering any stored event breaks the chain at
that point, and `verify_chain` names the first break. (Removing the newest events leaves
a shorter valid chain: the daily checkpoint of each tenant's head, kept in the trail's
Object Lock bucket, is what catches a truncated tail.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from functions.logic.audit import AuditEvent, Outcome

GENESIS = "0" * 64


def canonical(event: AuditEvent) -> bytes:
    return json.dumps(asdict(event), sort_keys=True, separators=(",", ":")).encode()


def link_hash(previous: str, event: AuditEvent) -> str:
    return hashlib.sha256(previous.encode() + b"|" + canonical(event)).hexdigest()


@dataclass(frozen=True)
class ChainedEvent:
    seq: int
    event: AuditEvent
    prev_hash: str
    hash: str


class BreakKind(StrEnum):
    MISSING = "missing"  # a sequence number is absent: an event was deleted
    EDITED = "edited"  # the stored hash does not match the event's content
    RELINKED = "relinked"  # the event does not follow its predecessor: reordered or spliced


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    kind: BreakKind


@dataclass(frozen=True)
class VerifyReport:
    events: int
    head_hash: str
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_chain(events: Iterable[ChainedEvent]) -> VerifyReport:
    """Walk the chain in sequence order; stop at the first break."""
    expected_seq, previous, count = 1, GENESIS, 0
    for chained in events:
        count += 1
        if chained.seq != expected_seq:
            return VerifyReport(count, previous, ChainBreak(expected_seq, BreakKind.MISSING))
        if chained.hash != link_hash(chained.prev_hash, chained.event):
            return VerifyReport(count, previous, ChainBreak(chained.seq, BreakKind.EDITED))
        if chained.prev_hash != previous:
            return VerifyReport(count, previous, ChainBreak(chained.seq, BreakKind.RELINKED))
        previous, expected_seq = chained.hash, expected_seq + 1
    return VerifyReport(count, previous, None)


def event_from_dict(data: dict[str, object]) -> AuditEvent:
    return AuditEvent(
        action=str(data["action"]),
        outcome=Outcome(str(data["outcome"])),
        actor=str(data["actor"]),
        tenant_id=str(data["tenant_id"]),
        at=str(data["at"]),
        request_id=str(data.get("request_id", "")),
        source_ip=str(data.get("source_ip", "")),
        target={str(k): str(v) for k, v in dict(data.get("target") or {}).items()},  # type: ignore[call-overload]
    )
