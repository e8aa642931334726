"""The audit table on moto: appends that never contend, sealed from the table's stream by
the real sealer handler (through local mode's stream poller), and tamper evidence."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.container import Container
from functions.core.settings import Settings
from functions.dal.audit_log import DynamoDbAuditLog, marker_key, seal_key
from functions.dal.aws import AwsClients
from functions.dal.schema import AUDIT_SEALER_FILTER, create_audit_table_kwargs
from functions.handlers import audit_sealer
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.audit_chain import BreakKind, VerifyReport, seal_hash, verify_tenant
from local.apigw import LambdaContext
from local.streams import StreamPoller
from tests.integration.conftest import record_operations

pytestmark = pytest.mark.integration

TABLE = "audit"
RETENTION_DAYS = 2190
NOW = datetime(2026, 11, 28, 10, 5, tzinfo=UTC)


@pytest.fixture
def runtime(clients: AwsClients) -> Container:
    """The sealer's container: the audit table on the test's moto clients."""
    clients.client("dynamodb").create_table(**create_audit_table_kwargs(TABLE))
    settings = Settings(audit_table_name=TABLE, audit_retention_days=RETENTION_DAYS)
    return Container(settings, clients=clients)


@pytest.fixture
def audit_table(runtime: Container) -> Any:
    return runtime.clients.table(TABLE)


@pytest.fixture
def log(runtime: Container) -> DynamoDbAuditLog:
    return runtime.audit_log()


@pytest.fixture
def sealer(runtime: Container) -> StreamPoller:
    """The sealer as local mode runs it: the real handler, fed from the table's stream."""
    return StreamPoller(
        runtime.clients,
        TABLE,
        audit_sealer.handler.bound(runtime),
        filter_pattern=AUDIT_SEALER_FILTER,
    )


def _event(i: int, tenant: str = "harbor") -> AuditEvent:
    return AuditEvent(
        "message.read",
        Outcome.SUCCESS,
        "user-1",
        tenant,
        f"2026-11-28T10:{i // 60:02d}:{i % 60:02d}.000Z",
        f"req-{i}",
        "198.51.100.7",
        {"conversation_id": "c1"},
    )


def _verify(log: DynamoDbAuditLog, tenant: str = "harbor", now: datetime = NOW) -> VerifyReport:
    return verify_tenant(log, tenant, now)


def _broken(report: VerifyReport) -> tuple[BreakKind, int, str]:
    assert report.first_break is not None, report
    return report.first_break.kind, report.first_break.seq, report.first_break.event_key


def _items(audit_table: Any, prefix: str) -> list[dict[str, Any]]:
    return [i for i in audit_table.scan()["Items"] if str(i["seq"]).startswith(prefix)]


# --- appending ----------------------------------------------------------------------------------
def test_an_append_is_one_put_and_reads_nothing_first(
    log: DynamoDbAuditLog, audit_table: Any
) -> None:
    log.record(_event(0))
    operations = record_operations(audit_table.meta.client)

    log.record(_event(1))

    assert operations == ["PutItem"]


def test_fifty_concurrent_appends_all_succeed(log: DynamoDbAuditLog, audit_table: Any) -> None:
    # Given 50 requests of one tenant auditing at the same instant
    start = threading.Barrier(50)

    def append(i: int) -> str:
        start.wait()
        return log.append(_event(i))

    # When they all append at once
    with ThreadPoolExecutor(max_workers=50) as pool:
        futures = [pool.submit(append, i) for i in range(50)]
    failures = [f.exception() for f in futures if f.exception() is not None]

    # Then none is refused and every event is stored under its own key
    assert failures == []
    keys = {f.result() for f in futures}
    assert len(keys) == 50
    assert {i["seq"] for i in _items(audit_table, "E#")} == keys


def test_every_item_expires_with_its_event(
    log: DynamoDbAuditLog, audit_table: Any, sealer: StreamPoller
) -> None:
    log.record(_event(1))
    sealer.poll()
    appended_at = int(datetime(2026, 11, 28, 10, 0, 1, tzinfo=UTC).timestamp())

    items = audit_table.scan()["Items"]

    assert sorted(str(i["seq"])[:2] for i in items) == ["E#", "M#", "S#"]
    assert {int(i["expires_at"]) for i in items} == {appended_at + RETENTION_DAYS * 86_400}


def test_export_reads_events_of_a_time_range_oldest_first(
    log: DynamoDbAuditLog, sealer: StreamPoller
) -> None:
    for i in range(10):
        log.record(_event(i))
    sealer.poll()  # seals and markers share the partition; export lists events only

    window = list(log.between("harbor", "2026-11-28T10:00:03.000Z", "2026-11-28T10:00:07.000Z"))

    assert [stored.event.request_id for stored in window] == ["req-3", "req-4", "req-5", "req-6"]


# --- sealing --------------------------------------------------------------------------------------
def test_fifty_concurrent_appends_are_sealed_from_the_stream_and_verify(
    log: DynamoDbAuditLog, sealer: StreamPoller
) -> None:
    with ThreadPoolExecutor(max_workers=50) as pool:
        list(pool.map(lambda i: log.record(_event(i)), range(50)))

    sealer.poll()

    report = _verify(log)
    assert report.ok, report
    assert (report.sealed, report.head_seq, report.unsealed) == (50, 50, 0)


def test_tenants_are_sealed_into_chains_of_their_own(
    log: DynamoDbAuditLog, sealer: StreamPoller
) -> None:
    for i in range(6):
        log.record(_event(i, ("harbor", "cedar")[i % 2]))

    sealer.poll()

    for tenant in ("harbor", "cedar"):
        report = _verify(log, tenant)
        assert report.ok and (report.sealed, report.head_seq) == (3, 3)


def test_a_stream_replayed_from_its_start_seals_nothing_twice(
    log: DynamoDbAuditLog, audit_table: Any, sealer: StreamPoller, runtime: Container
) -> None:
    for i in range(5):
        log.record(_event(i))
    sealer.poll()

    # A second consumer from the stream's start: every record arrives again (a retry).
    again = StreamPoller(
        runtime.clients,
        TABLE,
        audit_sealer.handler.bound(runtime),
        filter_pattern=AUDIT_SEALER_FILTER,
    )
    again.poll()

    assert len(_items(audit_table, "S#")) == 5
    assert _verify(log).sealed == 5


def test_the_sealer_ignores_its_own_links_and_markers(
    log: DynamoDbAuditLog, audit_table: Any, sealer: StreamPoller, runtime: Container
) -> None:
    log.record(_event(0))
    sealer.poll()  # writes a link and a marker: two more INSERTs on the stream
    unfiltered: list[dict[str, Any]] = []
    collect = StreamPoller(
        runtime.clients, TABLE, lambda event, _: unfiltered.extend(event["Records"])
    )
    collect.poll()

    result = audit_sealer.handler.bound(runtime)({"Records": unfiltered}, LambdaContext("test"))

    assert len(unfiltered) == 3
    assert result == {"sealed": 0, "already_sealed": 1}
    assert sealer.poll() == 0  # the filter passes none of them


# --- tamper evidence ----------------------------------------------------------------------------
@pytest.fixture
def sealed_six(log: DynamoDbAuditLog, audit_table: Any, sealer: StreamPoller) -> list[Any]:
    for i in range(6):
        log.record(_event(i))
    sealer.poll()
    return sorted(_items(audit_table, "S#"), key=lambda item: item["seq"])


def test_a_sealed_event_deleted_is_named_as_removed(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    third = sealed_six[2]
    audit_table.delete_item(Key={"pk": "AUDIT#harbor", "seq": third["event_key"]})

    assert _broken(_verify(log)) == (BreakKind.REMOVED, 3, third["event_key"])


def test_a_sealed_event_edited_is_named_as_edited(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    third = sealed_six[2]
    audit_table.update_item(
        Key={"pk": "AUDIT#harbor", "seq": third["event_key"]},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": "nobody"},
    )

    assert _broken(_verify(log)) == (BreakKind.EDITED, 3, third["event_key"])


def test_an_edit_made_before_sealing_is_caught_too(
    log: DynamoDbAuditLog, audit_table: Any, sealer: StreamPoller
) -> None:
    key = log.append(_event(0))
    audit_table.update_item(
        Key={"pk": "AUDIT#harbor", "seq": key},
        UpdateExpression="SET outcome = :o",
        ExpressionAttributeValues={":o": "denied"},
    )

    sealer.poll()  # seals the image the request inserted, not the edited item

    assert _broken(_verify(log)) == (BreakKind.EDITED, 1, key)


def test_a_seal_link_deleted_is_a_gap(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    audit_table.delete_item(Key={"pk": "AUDIT#harbor", "seq": seal_key(3)})

    assert _broken(_verify(log))[:2] == (BreakKind.GAP, 3)


def test_two_links_swapped_are_relinked(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    third, fourth = sealed_six[2], sealed_six[3]
    audit_table.put_item(Item={**fourth, "seq": third["seq"]})
    audit_table.put_item(Item={**third, "seq": fourth["seq"]})

    assert _broken(_verify(log))[:2] == (BreakKind.RELINKED, 3)


def test_a_link_rehashed_to_skip_its_predecessor_is_relinked(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    # Given someone removes event 3 with its link and marker and points link 4 at link 2,
    # recomputing link 4's own hash, then renumbers nothing (a renumbered chain: the trail)
    second, third, fourth = sealed_six[1], sealed_six[2], sealed_six[3]
    for key in (third["event_key"], marker_key(third["event_key"]), seal_key(3)):
        audit_table.delete_item(Key={"pk": "AUDIT#harbor", "seq": key})
    rewritten = {**fourth, "prev_hash": second["hash"]}
    rewritten["hash"] = seal_hash(
        second["hash"],
        4,
        fourth["event_key"],
        fourth["event_hash"],
        int(fourth["expires_at"]),
        int(fourth["prior_expiry"]),
    )
    audit_table.put_item(Item=rewritten)

    # Then the missing link is found first
    assert _broken(_verify(log))[:2] == (BreakKind.GAP, 3)
    # And moving link 4 into the hole shows it does not follow link 2's successor
    audit_table.delete_item(Key={"pk": "AUDIT#harbor", "seq": seal_key(4)})
    audit_table.put_item(Item={**rewritten, "seq": seal_key(3)})
    assert _broken(_verify(log))[:2] == (BreakKind.RELINKED, 3)


def test_the_unsealed_tail_is_reported_with_the_age_of_its_oldest_event(
    log: DynamoDbAuditLog, sealer: StreamPoller
) -> None:
    for i in range(3):
        log.record(_event(i))
    sealer.poll()
    for i in (40, 41):
        log.record(_event(i))  # appended after the sealer's last poll

    report = _verify(log, now=datetime(2026, 11, 28, 10, 0, 45, tzinfo=UTC))

    assert report.ok
    assert (report.sealed, report.unsealed) == (3, 2)
    assert report.oldest_unsealed_at == "2026-11-28T10:00:40.000Z"
    assert report.oldest_unsealed_age_seconds == pytest.approx(5.0)
    sealer.poll()
    assert _verify(log).unsealed == 0


def test_a_sealed_event_past_its_retention_date_is_not_a_removal(
    log: DynamoDbAuditLog, audit_table: Any, sealed_six: list[Any]
) -> None:
    # TTL deletes an item some time after its expires_at; the link names that date.
    audit_table.delete_item(Key={"pk": "AUDIT#harbor", "seq": sealed_six[0]["event_key"]})
    first_expires = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC) + timedelta(days=RETENTION_DAYS)

    before = _verify(log, now=first_expires - timedelta(seconds=1))
    after = _verify(log, now=first_expires)

    assert _broken(before)[:2] == (BreakKind.REMOVED, 1)
    assert after.ok and (after.sealed, after.expired) == (5, 1)
