"""The per-tenant seal chain over audit events: how each link is computed and checked.

Events are appended one by one, each under its own key, and never contend. The sealer
(audit_seal.py) then links them, in the order the table's stream delivered them, into a
hash chain per tenant. Seal link n stores:

    event_hash_n = SHA-256(canonical JSON of the event it seals)
    hash_n       = SHA-256(JSON [hash_{n-1}, n, event key, event_hash_n,
                                 expires_at_n, prior_expiry_n])

with hash_0 = GENESIS. `expires_at` is the event's retention date; `prior_expiry` is the
latest retention date of every earlier link, so a missing link can be told apart from
one that retention removed. `verify_seals` walks the links and names the first removal
(an event gone while its seal remains; a seal gone: a gap), edit (an event that no longer
hashes to its seal) or relink (a link that does not follow its predecessor). What a
self-contained chain cannot show (the newest events removed with their seals) the trail
can: `quietline audit verify --against-trail`.

Everything here is persisted format: tests/unit/test_audit_chain.py pins it with
known-answer vectors, so a change to it must be deliberate (and migrate old chains).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from functions.logic.audit import AuditEvent, Outcome

GENESIS = "0" * 64


def canonical(event: AuditEvent) -> bytes:
    """The event as sorted, compact JSON: the bytes its hash is computed over."""
    return json.dumps(asdict(event), sort_keys=True, separators=(",", ":")).encode()


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(canonical(event)).hexdigest()


def seal_hash(
    prev_hash: str, seq: int, event_key: str, event_digest: str, expires_at: int, prior_expiry: int
) -> str:
    """A link's hash: a JSON array, so no field can bleed into its neighbour."""
    fields = [prev_hash, seq, event_key, event_digest, expires_at, prior_expiry]
    return hashlib.sha256(json.dumps(fields, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class StoredEvent:
    """An event as the table holds it: its own key (what its seal names) and retention."""

    key: str
    event: AuditEvent
    expires_at: int

    @property
    def hash(self) -> str:
        return event_hash(self.event)

    @property
    def seq(self) -> str:
        """What exports list as an event's identifier: its key (the seal chain names it)."""
        return self.key


@dataclass(frozen=True)
class SealLink:
    seq: int
    event_key: str
    event_hash: str
    expires_at: int  # the sealed event's retention date (epoch seconds)
    prior_expiry: int  # the latest retention date of links 1..seq-1 (0 for the first)
    prev_hash: str
    hash: str
    sealed_at: str = ""  # when the sealer wrote it: informational, not hashed

    def recomputed(self) -> str:
        return seal_hash(
            self.prev_hash,
            self.seq,
            self.event_key,
            self.event_hash,
            self.expires_at,
            self.prior_expiry,
        )


def next_link(head: SealLink | None, stored: StoredEvent, sealed_at: str) -> SealLink:
    """The link that seals `stored` after `head` (None: the tenant's first link)."""
    seq = head.seq + 1 if head else 1
    previous = head.hash if head else GENESIS
    prior_expiry = max(head.prior_expiry, head.expires_at) if head else 0
    digest = stored.hash
    return SealLink(
        seq=seq,
        event_key=stored.key,
        event_hash=digest,
        expires_at=stored.expires_at,
        prior_expiry=prior_expiry,
        prev_hash=previous,
        hash=seal_hash(previous, seq, stored.key, digest, stored.expires_at, prior_expiry),
        sealed_at=sealed_at,
    )


class BreakKind(StrEnum):
    REMOVED = "removed"  # a sealed event is gone (before its retention date)
    GAP = "gap"  # a seal link is missing (before every earlier link's retention date)
    EDITED = "edited"  # an event no longer matches the hash its seal recorded
    RELINKED = "relinked"  # a link does not follow its predecessor: reordered or rewritten
    UNCHAINED = "unchained"  # events marked sealed that no seal names (or the reverse)


@dataclass(frozen=True)
class ChainBreak:
    kind: BreakKind
    seq: int  # the seal link where the chain breaks (0: not one link, see detail)
    event_key: str = ""
    detail: str = ""


@dataclass(frozen=True)
class VerifyReport:
    sealed: int  # events whose seal verified and which are still in the table
    expired: int  # sealed events their retention removed (seal intact, event gone)
    head_seq: int  # the last link checked (0: none)
    head_hash: str
    unsealed: int  # events appended but not sealed yet (the tail)
    oldest_unsealed_at: str | None
    oldest_unsealed_age_seconds: float | None
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


@dataclass(frozen=True)
class _SealWalk:
    sealed: int
    expired: int
    head: SealLink | None
    first_break: ChainBreak | None


def _walk_seals(links: Iterable[tuple[SealLink, StoredEvent | None]], now_epoch: int) -> _SealWalk:
    sealed = expired = 0
    previous: SealLink | None = None
    for link, stored in links:
        expected_seq = previous.seq + 1 if previous else 1
        contiguous = link.seq == expected_seq
        # A missing link is retention's doing only if every earlier link had expired.
        if not contiguous and link.prior_expiry > now_epoch:
            return _SealWalk(sealed, expired, previous, ChainBreak(BreakKind.GAP, expected_seq))
        if link.hash != link.recomputed():
            return _SealWalk(sealed, expired, previous, ChainBreak(BreakKind.RELINKED, link.seq))
        if contiguous:
            want_prev = previous.hash if previous else GENESIS
            want_prior = max(previous.prior_expiry, previous.expires_at) if previous else 0
            if link.prev_hash != want_prev or link.prior_expiry != want_prior:
                found = ChainBreak(BreakKind.RELINKED, link.seq)
                return _SealWalk(sealed, expired, previous, found)
        if stored is None:
            if link.expires_at > now_epoch:
                found = ChainBreak(BreakKind.REMOVED, link.seq, link.event_key)
                return _SealWalk(sealed, expired, previous, found)
            expired += 1
        elif stored.hash != link.event_hash:
            found = ChainBreak(BreakKind.EDITED, link.seq, link.event_key)
            return _SealWalk(sealed, expired, previous, found)
        elif stored.expires_at > now_epoch:
            sealed += 1
        else:
            expired += 1  # past retention, not deleted yet (TTL deletes within days)
        previous = link
    return _SealWalk(sealed, expired, previous, None)


@dataclass(frozen=True)
class _Tail:
    marked: int  # live events marked sealed by a link up to the cut
    unsealed: int
    oldest_unsealed_at: str | None


def _tail(
    events: Iterable[StoredEvent], markers: Iterable[tuple[str, int]], cut: int, now_epoch: int
) -> _Tail:
    """Merge events and the sealer's markers (both in event-key order)."""
    marks: Iterator[tuple[str, int]] = iter(markers)
    mark = next(marks, None)
    marked = unsealed = 0
    oldest: str | None = None
    for stored in events:
        while mark is not None and mark[0] < stored.key:
            mark = next(marks, None)
        if stored.expires_at <= now_epoch:
            continue  # past retention: neither counted as sealed nor as waiting
        if mark is not None and mark[0] == stored.key and mark[1] <= cut:
            marked += 1
        else:
            unsealed += 1  # a link after the cut was written while we read: still the tail
            if oldest is None or stored.event.at < oldest:
                oldest = stored.event.at
    return _Tail(marked, unsealed, oldest)


def unsealed_events(
    events: Iterable[StoredEvent], markers: Iterable[tuple[str, int]]
) -> Iterator[StoredEvent]:
    """The events no marker names (both inputs in event-key order), oldest first."""
    marks: Iterator[tuple[str, int]] = iter(markers)
    mark = next(marks, None)
    for stored in events:
        while mark is not None and mark[0] < stored.key:
            mark = next(marks, None)
        if mark is None or mark[0] != stored.key:
            yield stored


def verify_seals(
    links: Iterable[tuple[SealLink, StoredEvent | None]],
    events: Iterable[StoredEvent],
    markers: Iterable[tuple[str, int]],
    *,
    cut: int,
    now: datetime,
) -> VerifyReport:
    """Check a tenant's chain up to link `cut` (its head when the check began).

    `links`: the links 1..cut present, in order, each with its event (None: gone).
    `events` and `markers` (event key, sealing link): all of them, in event-key order.
    """
    now_epoch = int(now.timestamp())
    walk = _walk_seals(links, now_epoch)
    tail = _tail(events, markers, cut, now_epoch)
    first_break = walk.first_break
    if first_break is None and tail.marked != walk.sealed:
        first_break = ChainBreak(
            BreakKind.UNCHAINED,
            0,
            detail=f"{tail.marked} event(s) marked sealed, {walk.sealed} named by a seal",
        )
    age = (
        (now - parse_time(tail.oldest_unsealed_at)).total_seconds()
        if tail.oldest_unsealed_at
        else None
    )
    return VerifyReport(
        sealed=walk.sealed,
        expired=walk.expired,
        head_seq=walk.head.seq if walk.head else 0,
        head_hash=walk.head.hash if walk.head else GENESIS,
        unsealed=tail.unsealed,
        oldest_unsealed_at=tail.oldest_unsealed_at,
        oldest_unsealed_age_seconds=age,
        first_break=first_break,
    )


class ChainReader(Protocol):
    """What verification reads (functions/dal/audit_log.py)."""

    def head(self, tenant_id: str) -> SealLink | None: ...

    def seals(
        self, tenant_id: str, up_to: int
    ) -> Iterable[tuple[SealLink, StoredEvent | None]]: ...

    def events(self, tenant_id: str) -> Iterable[StoredEvent]: ...

    def markers(self, tenant_id: str) -> Iterable[tuple[str, int]]: ...


def verify_tenant(reader: ChainReader, tenant_id: str, now: datetime) -> VerifyReport:
    """The tenant's chain as of its head now; what the sealer adds meanwhile is the tail."""
    head = reader.head(tenant_id)
    cut = head.seq if head else 0
    return verify_seals(
        reader.seals(tenant_id, cut),
        reader.events(tenant_id),
        reader.markers(tenant_id),
        cut=cut,
        now=now,
    )


def parse_time(iso_time: str) -> datetime:
    """An event's `at` (ISO-8601, 'Z' or an offset; a bare date is midnight UTC)."""
    moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
