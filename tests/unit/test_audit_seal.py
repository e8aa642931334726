"""Sealing new audit events into each tenant's chain: order, idempotency, tenants apart.

The repository is an in-memory fake with the table's transaction semantics: the link and
the event's marker are written together, each only if absent.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from functions.core.errors import ConflictError
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.audit_chain import SealLink, StoredEvent, verify_seals
from functions.logic.audit_seal import SealWrite, seal_batch

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW


class FakeSeals:
    """SealRepository over dicts, as DynamoDB's conditional transaction behaves."""

    def __init__(self) -> None:
        self.links: dict[str, dict[int, SealLink]] = {}
        self.markers: dict[str, dict[str, int]] = {}
        self.head_reads = 0
        self.taken_once: set[tuple[str, int]] = set()  # numbers another consumer takes first

    def head(self, tenant_id: str) -> SealLink | None:
        self.head_reads += 1
        links = self.links.get(tenant_id, {})
        return links[max(links)] if links else None

    def append_seal(self, tenant_id: str, link: SealLink) -> SealWrite:
        links = self.links.setdefault(tenant_id, {})
        markers = self.markers.setdefault(tenant_id, {})
        if link.event_key in markers:
            return SealWrite.ALREADY_SEALED
        if (tenant_id, link.seq) in self.taken_once:
            self.taken_once.discard((tenant_id, link.seq))
            intruder = _stored(999, tenant_id)
            intruder_link = dataclasses.replace(link, event_key=intruder.key)
            links[link.seq], markers[intruder.key] = intruder_link, link.seq
            return SealWrite.SEQ_TAKEN
        if link.seq in links:
            return SealWrite.SEQ_TAKEN
        links[link.seq], markers[link.event_key] = link, link.seq
        return SealWrite.SEALED

    def sealed_keys(self, tenant_id: str) -> list[str]:
        links = self.links.get(tenant_id, {})
        return [links[seq].event_key for seq in sorted(links)]


def _stored(n: int, tenant_id: str = "harbor") -> StoredEvent:
    at = (NOW + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    event = AuditEvent("message.read", Outcome.SUCCESS, "user-1", tenant_id, at, f"req-{n}")
    return StoredEvent(f"E#{at}#{n:020x}", event, 1984219203)


def test_events_are_sealed_in_the_order_they_arrive_not_by_time() -> None:
    seals = FakeSeals()
    records = [_stored(2), _stored(0), _stored(1)]  # stream order, not clock order

    report = seal_batch(records, seals, FixedClock())

    assert (report.sealed, report.already_sealed) == (3, 0)
    assert seals.sealed_keys("harbor") == [r.key for r in records]


def test_the_sealed_links_form_a_chain_that_verifies() -> None:
    seals = FakeSeals()
    records = [_stored(n) for n in range(4)]

    seal_batch(records, seals, FixedClock())

    links = [seals.links["harbor"][seq] for seq in sorted(seals.links["harbor"])]
    report = verify_seals(
        [(link, next(r for r in records if r.key == link.event_key)) for link in links],
        records,
        sorted((key, seq) for key, seq in seals.markers["harbor"].items()),
        cut=4,
        now=NOW,
    )
    assert report.ok and report.sealed == 4


def test_a_retried_batch_seals_nothing_twice() -> None:
    seals = FakeSeals()
    records = [_stored(n) for n in range(3)]
    seal_batch(records, seals, FixedClock())

    report = seal_batch(records, seals, FixedClock())

    assert (report.sealed, report.already_sealed) == (0, 3)
    assert sorted(seals.links["harbor"]) == [1, 2, 3]


def test_a_batch_retried_after_sealing_part_of_it_completes_the_chain_once() -> None:
    seals = FakeSeals()
    records = [_stored(n) for n in range(5)]
    seal_batch(records[:2], seals, FixedClock())  # the invocation that failed midway

    report = seal_batch(records, seals, FixedClock())

    assert (report.sealed, report.already_sealed) == (3, 2)
    assert seals.sealed_keys("harbor") == [r.key for r in records]


def test_a_duplicate_stream_record_in_one_batch_is_sealed_once() -> None:
    seals = FakeSeals()
    records = [_stored(0), _stored(1), _stored(0)]

    report = seal_batch(records, seals, FixedClock())

    assert (report.sealed, report.already_sealed) == (2, 1)
    assert seals.sealed_keys("harbor") == [records[0].key, records[1].key]


def test_tenants_in_one_batch_get_their_own_chains_in_their_own_order() -> None:
    seals = FakeSeals()
    records = [_stored(0, "harbor"), _stored(1, "cedar"), _stored(2, "harbor"), _stored(3, "cedar")]

    seal_batch(records, seals, FixedClock())

    assert seals.sealed_keys("harbor") == [records[0].key, records[2].key]
    assert seals.sealed_keys("cedar") == [records[1].key, records[3].key]
    assert seals.links["cedar"][1].prev_hash == "0" * 64


def test_each_tenants_head_is_read_once_per_batch() -> None:
    seals = FakeSeals()

    seal_batch([_stored(n, ("harbor", "cedar")[n % 2]) for n in range(10)], seals, FixedClock())

    assert seals.head_reads == 2


def test_a_link_number_taken_meanwhile_makes_it_reread_the_head_and_seal_after_it() -> None:
    seals = FakeSeals()
    seal_batch([_stored(0)], seals, FixedClock())
    seals.taken_once.add(("harbor", 2))

    report = seal_batch([_stored(1)], seals, FixedClock())

    assert report.sealed == 1
    assert seals.links["harbor"][3].event_key == _stored(1).key
    assert seals.links["harbor"][3].prev_hash == seals.links["harbor"][2].hash


def test_link_numbers_that_keep_being_taken_fail_the_batch_for_a_retry() -> None:
    seals = FakeSeals()
    seals.taken_once.update(("harbor", seq) for seq in range(1, 20))

    with pytest.raises(ConflictError):
        seal_batch([_stored(0)], seals, FixedClock())


def test_each_link_records_when_it_was_sealed() -> None:
    seals = FakeSeals()

    seal_batch([_stored(0)], seals, FixedClock())

    assert seals.links["harbor"][1].sealed_at == "2026-11-28T10:00:00.000Z"
