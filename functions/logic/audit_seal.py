"""Sealing: new audit events, in the order the table's stream delivered them, into each
tenant's hash chain (audit_chain.py). Runs off the request path, one consumer per shard.

Idempotent: a link and the event's marker are written together, each only if absent, so
a retried batch or a duplicate stream record finds the marker and skips the event; the
chain never seals an event twice or skips a number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ConflictError
from functions.logic.audit_chain import SealLink, StoredEvent, next_link

# A link number is only ever taken by another consumer of the same shard (Lambda's
# handover between two invocations): read the head again, a few times at most.
MAX_ATTEMPTS = 5


class SealWrite(StrEnum):
    SEALED = "sealed"
    ALREADY_SEALED = "already_sealed"  # the event's marker exists: a retry or a duplicate
    SEQ_TAKEN = "seq_taken"  # the link number exists: our head was stale


class SealRepository(Protocol):
    def head(self, tenant_id: str) -> SealLink | None:
        """The tenant's newest link (a consistent read), None before the first."""

    def append_seal(self, tenant_id: str, link: SealLink) -> SealWrite:
        """Write the link and the event's marker together, each only if absent."""


@dataclass(frozen=True)
class SealReport:
    sealed: int
    already_sealed: int


def seal_batch(
    records: Iterable[StoredEvent], repository: SealRepository, clock: Clock
) -> SealReport:
    """Seal each new event after its tenant's head, in the order given."""
    heads: dict[str, SealLink | None] = {}
    sealed = already = 0
    for stored in records:
        tenant_id = stored.event.tenant_id
        if tenant_id not in heads:
            heads[tenant_id] = repository.head(tenant_id)
        for _ in range(MAX_ATTEMPTS):
            link = next_link(heads[tenant_id], stored, iso(clock.now()))
            outcome = repository.append_seal(tenant_id, link)
            if outcome is SealWrite.SEALED:
                heads[tenant_id], sealed = link, sealed + 1
                break
            if outcome is SealWrite.ALREADY_SEALED:
                already += 1
                break
            heads[tenant_id] = repository.head(tenant_id)
        else:
            # The batch fails and is retried (then bisected, then dead-lettered).
            raise ConflictError("audit seal: link numbers keep being taken")
    return SealReport(sealed, already)
