"""The audit table on moto: append-only, hash-chained per tenant, tamper-evident."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from functions.dal.audit_log import DynamoDbAuditLog
from functions.dal.schema import create_audit_table_kwargs
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.audit_chain import BreakKind, verify_chain

pytestmark = pytest.mark.integration


@pytest.fixture
def audit_table(moto_aws: None) -> Any:
    boto3.client("dynamodb").create_table(**create_audit_table_kwargs("audit"))
    return boto3.resource("dynamodb").Table("audit")


@pytest.fixture
def log(audit_table: Any) -> DynamoDbAuditLog:
    return DynamoDbAuditLog(audit_table, retention_days=2190)


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


def test_events_chain_per_tenant_and_verify(log: DynamoDbAuditLog) -> None:
    for i in range(5):
        log.record(_event(i))
        log.record(_event(i, "cedar"))
    for tenant in ("harbor", "cedar"):
        report = verify_chain(log.chain(tenant))
        assert report.ok and report.events == 5


def test_concurrent_writers_never_fork_the_chain(log: DynamoDbAuditLog) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: log.record(_event(i)), range(30)))
    links = list(log.chain("harbor"))
    assert [link.seq for link in links] == list(range(1, 31))
    assert verify_chain(links).ok


def test_retention_is_set_on_every_event(log: DynamoDbAuditLog, audit_table: Any) -> None:
    log.record(_event(1))
    (item,) = audit_table.scan()["Items"]
    assert int(item["expires_at"]) - 1795860001 == pytest.approx(2190 * 86400, abs=86400)


@pytest.mark.parametrize("tamper", ["delete", "edit", "reorder"])
def test_tampering_with_the_table_is_detected_at_the_right_place(
    log: DynamoDbAuditLog, audit_table: Any, tamper: str
) -> None:
    for i in range(6):
        log.record(_event(i))
    key = {"pk": "AUDIT#harbor", "seq": "000000000003"}
    if tamper == "delete":
        audit_table.delete_item(Key=key)
        expected = (3, BreakKind.MISSING)
    elif tamper == "edit":
        audit_table.update_item(
            Key=key, UpdateExpression="SET actor = :a", ExpressionAttributeValues={":a": "nobody"}
        )
        expected = (3, BreakKind.EDITED)
    else:
        third = audit_table.get_item(Key=key)["Item"]
        fourth = audit_table.get_item(Key={**key, "seq": "000000000004"})["Item"]
        audit_table.put_item(Item={**fourth, "seq": "000000000003"})
        audit_table.put_item(Item={**third, "seq": "000000000004"})
        expected = (3, BreakKind.RELINKED)
    report = verify_chain(log.chain("harbor"))
    assert report.first_break is not None
    assert (report.first_break.seq, report.first_break.kind) == expected


def test_export_reads_a_time_range_oldest_first(log: DynamoDbAuditLog) -> None:
    for i in range(10):
        log.record(_event(i))
    window = list(log.between("harbor", "2026-11-28T10:00:03.000Z", "2026-11-28T10:00:07.000Z"))
    assert [link.event.request_id for link in window] == ["req-3", "req-4", "req-5", "req-6"]
