"""The audit seal chain: its persisted format (known answers) and what verification names.

The known answers below were computed outside this code (sha256sum over the literal
strings shown), so a change to the canonical form, the separators, the link's fields or
the genesis value fails here even though a chain would still verify against itself.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from functions.dal.audit_log import event_key, marker_key, partition_key, seal_key, time_key
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.audit_chain import (
    GENESIS,
    BreakKind,
    SealLink,
    StoredEvent,
    VerifyReport,
    canonical,
    event_hash,
    next_link,
    unsealed_events,
    verify_seals,
)

pytestmark = pytest.mark.unit

EVENT = AuditEvent(
    "message.read",
    Outcome.SUCCESS,
    "user-1",
    "harbor",
    "2026-11-28T10:00:03.000Z",
    "req-3",
    "198.51.100.7",
    {"conversation_id": "c1"},
)
EVENT_CANONICAL = (
    b'{"action":"message.read","actor":"user-1","at":"2026-11-28T10:00:03.000Z",'
    b'"outcome":"success","request_id":"req-3","source_ip":"198.51.100.7",'
    b'"target":{"conversation_id":"c1"},"tenant_id":"harbor"}'
)
EVENT_HASH = "eb76b526f5f1985498c697f9774b476ee0d0450530e6e6807e73876bd0d095de"
EVENT_KEY = "E#2026-11-28T10:00:03.000Z#00112233445566778899"
# sha256('["000…000",1,"E#2026-11-28T10:00:03.000Z#00112233445566778899","eb76…95de",1984219203,0]')
FIRST_LINK_HASH = "4d2b9c3cb6281816ff3e3a390a367b4aaf5d4c08bd85439a9295e4642052060d"

SECOND_EVENT = AuditEvent(
    "contact.update", Outcome.DENIED, "user-2", "harbor", "2026-11-28T10:00:04.500Z", "req-\u00e9"
)
SECOND_CANONICAL = (
    b'{"action":"contact.update","actor":"user-2","at":"2026-11-28T10:00:04.500Z",'
    b'"outcome":"denied","request_id":"req-\\u00e9","source_ip":"","target":{},'
    b'"tenant_id":"harbor"}'
)
SECOND_HASH = "1f13f4a6351e46520c74a73105aed84ad66aaab9c05b9a7548c354c67836e4e3"
SECOND_KEY = "E#2026-11-28T10:00:04.500Z#aabbccddeeff00112233"
# sha256('["4d2b…060d",2,"E#2026-11-28T10:00:04.500Z#aabbccddeeff00112233","1f13…e4e3",
#         1984219204,1984219203]')
SECOND_LINK_HASH = "902d001e12420ce8c62a69c125ffc1e7795f6bb00fc384d31195a49f7fbff4d1"

NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)
RETAINED_UNTIL = int((NOW + timedelta(days=2190)).timestamp())


# --- the persisted format, pinned ------------------------------------------------------------
def test_the_canonical_form_is_sorted_compact_json() -> None:
    assert canonical(EVENT) == EVENT_CANONICAL


def test_the_canonical_form_escapes_non_ascii_and_keeps_empty_fields() -> None:
    assert canonical(SECOND_EVENT) == SECOND_CANONICAL


def test_the_event_hash_is_sha256_of_the_canonical_form() -> None:
    assert event_hash(EVENT) == EVENT_HASH
    assert event_hash(SECOND_EVENT) == SECOND_HASH


def test_the_genesis_value_is_sixty_four_zeros() -> None:
    assert GENESIS == "0000000000000000000000000000000000000000000000000000000000000000"


def test_the_first_link_hashes_genesis_seq_key_event_hash_and_expiries() -> None:
    first = next_link(None, StoredEvent(EVENT_KEY, EVENT, 1984219203), "2026-11-28T10:00:04Z")

    assert (first.seq, first.prev_hash, first.prior_expiry) == (1, GENESIS, 0)
    assert first.event_hash == EVENT_HASH
    assert first.hash == FIRST_LINK_HASH


def test_the_next_link_chains_on_its_predecessor_and_carries_its_expiry() -> None:
    first = next_link(None, StoredEvent(EVENT_KEY, EVENT, 1984219203), "")

    second = next_link(first, StoredEvent(SECOND_KEY, SECOND_EVENT, 1984219204), "")

    assert (second.seq, second.prev_hash, second.prior_expiry) == (2, FIRST_LINK_HASH, 1984219203)
    assert second.hash == SECOND_LINK_HASH


def test_the_sealed_time_is_not_part_of_the_hash() -> None:
    stored = StoredEvent(EVENT_KEY, EVENT, 1984219203)
    assert next_link(None, stored, "a").hash == next_link(None, stored, "b").hash


def test_the_key_formats() -> None:
    assert partition_key("harbor") == "AUDIT#harbor"
    assert event_key("2026-11-28T10:00:03.000Z", "00112233445566778899") == EVENT_KEY
    assert time_key(EVENT_KEY) == "2026-11-28T10:00:03.000Z#00112233445566778899"
    assert seal_key(7) == "S#000000000007"
    assert marker_key(EVENT_KEY) == "M#E#2026-11-28T10:00:03.000Z#00112233445566778899"


def test_the_event_hash_covers_every_field() -> None:
    base = event_hash(EVENT)
    for change in (
        {"action": "message.send"},
        {"outcome": Outcome.DENIED},
        {"actor": "user-2"},
        {"target": {"conversation_id": "c2"}},
        {"source_ip": "x"},
        {"at": "2026-11-28T10:00:02.000Z"},
        {"request_id": "r"},
        {"tenant_id": "cedar"},
    ):
        assert event_hash(dataclasses.replace(EVENT, **change)) != base  # type: ignore[arg-type]


# --- verification ------------------------------------------------------------------------------
def _stored(n: int, *, expires_at: int = RETAINED_UNTIL) -> StoredEvent:
    at = (NOW - timedelta(minutes=30) + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    event = dataclasses.replace(EVENT, at=at, request_id=f"req-{n}", actor=f"user-{n % 3}")
    return StoredEvent(f"E#{at}#{n:020x}", event, expires_at)


def _chain(events: list[StoredEvent]) -> list[SealLink]:
    links: list[SealLink] = []
    for stored in events:
        links.append(next_link(links[-1] if links else None, stored, ""))
    return links


def _verify(
    links: list[SealLink],
    events: list[StoredEvent],
    *,
    markers: list[tuple[str, int]] | None = None,
    cut: int | None = None,
    now: datetime = NOW,
) -> VerifyReport:
    by_key = {stored.key: stored for stored in events}
    if markers is None:
        markers = [(link.event_key, link.seq) for link in links]
    return verify_seals(
        [(link, by_key.get(link.event_key)) for link in links],
        sorted(events, key=lambda s: s.key),
        sorted(markers),
        cut=cut if cut is not None else (links[-1].seq if links else 0),
        now=now,
    )


def _break(report: VerifyReport) -> tuple[BreakKind, int, str]:
    found = report.first_break
    assert found is not None
    return found.kind, found.seq, found.event_key


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)

    report = _verify(links, events)

    assert report.ok
    assert (report.sealed, report.head_seq, report.head_hash) == (5, 5, links[-1].hash)
    assert report.unsealed == 0


def test_an_empty_log_is_intact() -> None:
    report = _verify([], [])
    assert report.ok and report.sealed == 0 and report.head_hash == GENESIS


def test_an_event_removed_while_its_seal_remains_is_named() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)

    report = _verify(links, events[:2] + events[3:])

    assert _break(report) == (BreakKind.REMOVED, 3, events[2].key)


def test_an_event_gone_after_its_retention_date_is_expired_not_removed() -> None:
    events = [_stored(0, expires_at=int(NOW.timestamp()) - 1), _stored(1), _stored(2)]
    links = _chain(events)

    report = _verify(links, events[1:])

    assert report.ok and (report.sealed, report.expired) == (2, 1)


def test_a_missing_seal_link_is_a_gap() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)

    report = _verify(links[:2] + links[3:], events)

    assert _break(report)[:2] == (BreakKind.GAP, 3)


def test_missing_first_links_are_a_gap_unless_their_retention_ended() -> None:
    past = int(NOW.timestamp()) - 60
    events = [_stored(0, expires_at=past), _stored(1, expires_at=past), _stored(2), _stored(3)]
    links = _chain(events)

    expired_head = _verify(links[2:], events[2:])
    removed_head = _verify(links[2:], events[2:], now=NOW - timedelta(hours=1))

    assert expired_head.ok and expired_head.sealed == 2
    assert _break(removed_head)[:2] == (BreakKind.GAP, 1)


def test_an_edited_event_is_named() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)
    edited = dataclasses.replace(
        events[2], event=dataclasses.replace(events[2].event, actor="someone-else")
    )

    report = _verify(links, [*events[:2], edited, *events[3:]])

    assert _break(report) == (BreakKind.EDITED, 3, events[2].key)


def test_an_edit_that_reseals_its_own_link_breaks_the_next_one() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)
    forged_event = dataclasses.replace(
        events[2], event=dataclasses.replace(events[2].event, outcome=Outcome.DENIED)
    )
    forged_link = next_link(links[1], forged_event, "")

    report = _verify(
        [*links[:2], forged_link, *links[3:]], [*events[:2], forged_event, *events[3:]]
    )

    assert _break(report)[:2] == (BreakKind.RELINKED, 4)


def test_a_link_whose_fields_were_rewritten_is_relinked() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)
    pointed_elsewhere = dataclasses.replace(
        links[2], event_key=events[3].key, event_hash=events[3].hash
    )

    report = _verify([*links[:2], pointed_elsewhere, *links[3:]], events)

    assert _break(report)[:2] == (BreakKind.RELINKED, 3)


def test_swapped_links_are_relinked() -> None:
    events = [_stored(n) for n in range(5)]
    links = _chain(events)
    swapped = [
        links[0],
        dataclasses.replace(links[2], seq=2),
        dataclasses.replace(links[1], seq=3),
        *links[3:],
    ]

    report = _verify(swapped, events)

    assert _break(report)[:2] == (BreakKind.RELINKED, 2)


def test_the_unsealed_tail_is_counted_with_the_age_of_its_oldest_event() -> None:
    events = [_stored(n) for n in range(6)]
    links = _chain(events[:4])

    report = _verify(links, events, now=NOW)

    assert report.ok and (report.sealed, report.unsealed) == (4, 2)
    assert report.oldest_unsealed_at == events[4].event.at
    assert report.oldest_unsealed_age_seconds == 30 * 60 - 4


def test_links_written_after_the_check_began_leave_their_events_in_the_tail() -> None:
    events = [_stored(n) for n in range(4)]
    links = _chain(events)

    report = _verify(
        links[:3], events, markers=[(link.event_key, link.seq) for link in links], cut=3
    )

    assert report.ok and (report.sealed, report.unsealed) == (3, 1)


def test_an_event_marked_sealed_that_no_link_names_is_unchained() -> None:
    events = [_stored(n) for n in range(4)]
    links = _chain(events[:3])
    forged_marker = (events[3].key, 2)

    report = _verify(
        links, events, markers=[*((link.event_key, link.seq) for link in links), forged_marker]
    )

    assert _break(report)[:2] == (BreakKind.UNCHAINED, 0)


def test_the_unsealed_events_are_those_no_marker_names_oldest_first() -> None:
    events = [_stored(n) for n in range(5)]
    markers = [(events[1].key, 1), (events[3].key, 2)]

    found = list(unsealed_events(events, markers))

    assert found == [events[0], events[2], events[4]]
