"""The audit hash chain detects a deleted, an edited and a reordered event."""

from __future__ import annotations

import dataclasses

import pytest

from functions.logic.audit import AuditEvent, Outcome
from functions.logic.audit_chain import GENESIS, BreakKind, ChainedEvent, link_hash, verify_chain

pytestmark = pytest.mark.unit


def _chain(n: int) -> list[ChainedEvent]:
    links, previous = [], GENESIS
    for seq in range(1, n + 1):
        event = AuditEvent(
            "message.read",
            Outcome.SUCCESS,
            f"user-{seq % 3}",
            "harbor",
            f"2026-11-28T10:00:{seq:02d}.000Z",
            f"req-{seq}",
            "198.51.100.7",
            {"conversation_id": "c1"},
        )
        digest = link_hash(previous, event)
        links.append(ChainedEvent(seq, event, previous, digest))
        previous = digest
    return links


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    links = _chain(5)
    report = verify_chain(links)
    assert report.ok and report.events == 5 and report.head_hash == links[-1].hash


def test_an_empty_chain_is_intact() -> None:
    assert verify_chain([]).ok


def test_a_deleted_event_is_the_first_break() -> None:
    links = _chain(5)
    report = verify_chain(links[:2] + links[3:])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (3, BreakKind.MISSING)


def test_an_edited_event_is_the_first_break() -> None:
    links = _chain(5)
    edited = dataclasses.replace(
        links[2], event=dataclasses.replace(links[2].event, actor="someone-else")
    )
    report = verify_chain([*links[:2], edited, *links[3:]])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (3, BreakKind.EDITED)


def test_an_edit_that_recomputes_its_own_hash_still_breaks_the_next_link() -> None:
    links = _chain(5)
    forged_event = dataclasses.replace(links[2].event, outcome=Outcome.DENIED)
    forged = dataclasses.replace(
        links[2], event=forged_event, hash=link_hash(links[2].prev_hash, forged_event)
    )
    report = verify_chain([*links[:2], forged, *links[3:]])
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (4, BreakKind.RELINKED)


def test_reordered_events_break_the_chain() -> None:
    links = _chain(5)
    swapped_content = [
        *links[:1],
        dataclasses.replace(links[2], seq=2),
        dataclasses.replace(links[1], seq=3),
        *links[3:],
    ]
    report = verify_chain(swapped_content)
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == (2, BreakKind.RELINKED)


def test_the_hash_covers_every_field() -> None:
    event = _chain(1)[0].event
    base = link_hash(GENESIS, event)
    for change in (
        {"action": "message.send"},
        {"target": {"conversation_id": "c2"}},
        {"source_ip": "x"},
        {"at": "2026-11-28T10:00:02.000Z"},
        {"request_id": "r"},
        {"tenant_id": "cedar"},
    ):
        assert link_hash(GENESIS, dataclasses.replace(event, **change)) != base  # type: ignore[arg-type]
    assert link_hash("f" * 64, event) != base
