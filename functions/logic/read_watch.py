"""Early warning for a breach: one user reading an unusual number of threads in a window.

A compromised account or a curious employee shows up as volume. Each PHI read counts
against the user's current window; crossing the threshold emits the UnusualReadVolume
metric (alarmed) and an audit event, once per window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.logic.access import Principal
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.ports import MetricsSink

READ_ACTIONS = frozenset({"message.read", "conversation.read", "contact.read", "conversation.list"})


class ReadCounter(Protocol):
    def count_read(self, tenant_id: str, user_id: str, window: str, *, expires_at: int) -> int: ...


@dataclass
class ReadVolumeWatch:
    counter: ReadCounter
    audit: AuditSink
    metrics: MetricsSink
    clock: Clock
    threshold: int = 300
    window: timedelta = timedelta(minutes=15)

    def observe(self, principal: Principal, action: str) -> None:
        if action not in READ_ACTIONS:
            return
        now = self.clock.now()
        seconds = int(self.window.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        count = self.counter.count_read(
            principal.tenant_id, principal.user_id, str(start), expires_at=start + 2 * seconds
        )
        if count == self.threshold + 1:  # exactly once per window
            self.metrics.count("UnusualReadVolume")
            self.audit.record(
                AuditEvent(
                    action="breach.unusual_read_volume",
                    outcome=Outcome.SUCCESS,
                    actor=principal.user_id,
                    tenant_id=principal.tenant_id,
                    at=iso(now),
                    target={"reads_in_window": str(count), "window_seconds": str(seconds)},
                )
            )
