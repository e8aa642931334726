"""The `quietline` CLI against moto: a deployed stack is read from its CloudFormation outputs."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from cli import main as cli_main
from functions.dal.aws import AwsClients
from functions.dal.store import MessageStore
from tests.integration.conftest import TABLE_NAME
from tests.phi_samples import BUSINESS_NUMBER

pytestmark = pytest.mark.integration


def _deploy_outputs(outputs: dict[str, str]) -> None:
    """A stack whose outputs name the moto resources, as `cdk deploy` would leave it."""
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    boto3.client("cloudformation").create_stack(
        StackName="Quietline", TemplateBody=json.dumps(template)
    )


def _run(*args: str) -> Any:
    return CliRunner().invoke(cli_main.main, list(args), catch_exceptions=False)


def test_tenants_sync_provisions_every_configured_tenant(
    table: Any, tenant_keys: dict[str, str]
) -> None:
    _deploy_outputs({"MessageTableName": TABLE_NAME})
    result = _run("--stack", "Quietline", "tenants", "sync")
    assert result.exit_code == 0, result.output
    assert "tenant harbor: 1 number(s) assigned" in result.output
    assert MessageStore(table).tenant_id_for_number(BUSINESS_NUMBER) == "harbor"


def test_replay_moves_a_dead_lettered_message_back_to_its_queue(moto_aws: None) -> None:
    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="outbound")["QueueUrl"]
    dlq = sqs.create_queue(QueueName="outbound-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody='{"ref": "harbor/c/m"}')
    _deploy_outputs({"OutboundQueueUrl": queue, "OutboundDlqUrl": dlq})
    result = _run("--stack", "Quietline", "replay", "outbound")
    assert result.exit_code == 0 and "replayed 1 message(s)" in result.output
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=queue).get("Messages", [])]
    assert bodies == ['{"ref": "harbor/c/m"}']
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []


def test_replaying_a_queue_the_stack_lacks_is_a_one_line_error(moto_aws: None) -> None:
    _deploy_outputs({"MessageTableName": TABLE_NAME})
    result = CliRunner().invoke(cli_main.main, ["--stack", "Quietline", "replay", "inbound"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "InboundFunctionDlqUrl" in result.output
    assert "Traceback" not in result.output


def test_an_aws_refusal_is_one_line_naming_its_code_not_a_traceback(moto_aws: None) -> None:
    gone = "https://sqs.us-east-1.amazonaws.com/123456789012/quietline-outbound-dlq"
    _deploy_outputs({"MessageTableName": TABLE_NAME, "OutboundDlqUrl": gone})
    result = CliRunner().invoke(cli_main.main, ["--stack", "Quietline", "status"])
    assert result.exit_code == 1
    (line,) = [x for x in result.output.splitlines() if x.startswith("quietline: ")]
    assert line.startswith("quietline: AWS refused the call (") and "Traceback" not in result.output


def test_an_unknown_stack_is_a_one_line_error(moto_aws: None) -> None:
    result = CliRunner().invoke(cli_main.main, ["--stack", "Nope", "tenants", "sync"])
    assert result.exit_code == 1 and "cannot read stack Nope" in result.output


@pytest.fixture
def sms(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The End User Messaging client the CLI gets (moto lacks the API: Stubber checks calls)."""
    client = boto3.client("pinpoint-sms-voice-v2", region_name="us-east-1")
    real_client = AwsClients.client
    monkeypatch.setattr(
        AwsClients,
        "client",
        lambda self, service: (
            client if service == "pinpoint-sms-voice-v2" else real_client(self, service)
        ),
    )
    return client


def test_numbers_two_way_points_the_number_at_the_stack_topic(moto_aws: None, sms: Any) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:quietline-inbound"
    _deploy_outputs({"InboundSmsTopicArn": topic})
    with Stubber(sms) as stub:
        stub.add_response(
            "update_phone_number",
            {"PhoneNumberId": "phone-1234", "TwoWayEnabled": True, "TwoWayChannelArn": topic},
            {
                "PhoneNumberId": "phone-1234",
                "TwoWayEnabled": True,
                "TwoWayChannelArn": topic,
                "SelfManagedOptOutsEnabled": True,
            },
        )
        result = _run("--stack", "Quietline", "numbers", "two-way", "phone-1234")
        stub.assert_no_pending_responses()
    assert result.exit_code == 0 and "two-way SMS on" in result.output


def _audit_log(**outputs: str) -> Any:
    from functions.dal.audit_log import DynamoDbAuditLog
    from functions.dal.schema import create_audit_table_kwargs

    boto3.client("dynamodb").create_table(**create_audit_table_kwargs("audit"))
    _deploy_outputs({"AuditTableName": "audit", **outputs})
    return DynamoDbAuditLog(boto3.resource("dynamodb").Table("audit"), retention_days=2190)


def _append(log: Any, numbers: range) -> list[str]:
    from functions.logic.audit import AuditEvent, Outcome

    return [
        log.append(
            AuditEvent(
                "message.read",
                Outcome.SUCCESS,
                "user-1",
                "harbor",
                f"2026-11-28T10:00:{i:02d}.000Z",
                f"req-{i}",
                "198.51.100.7",
                {"conversation_id": "c1"},
            )
        )
        for i in numbers
    ]


def _seal(log: Any) -> None:
    """What the sealer does in a deployment: seal the stream's new events."""
    from functions.core.clock import SystemClock
    from functions.dal.audit_log import stored_event_from_stream
    from functions.dal.schema import AUDIT_SEALER_FILTER
    from functions.logic.audit_seal import seal_batch
    from local.streams import StreamPoller

    def handler(event: dict[str, Any], context: Any) -> None:
        stored = [stored_event_from_stream(record) for record in event["Records"]]
        seal_batch([s for s in stored if s is not None], log, SystemClock())

    StreamPoller(AwsClients(), "audit", handler, filter_pattern=AUDIT_SEALER_FILTER).poll()


def _remove(key: str, *, sealed_as: int | None = None) -> None:
    """Delete an event (and, when it was sealed, its link and marker too)."""
    table = boto3.resource("dynamodb").Table("audit")
    keys = [key] if sealed_as is None else [key, f"M#{key}", f"S#{sealed_as:012d}"]
    for sort_key in keys:
        table.delete_item(Key={"pk": "AUDIT#harbor", "seq": sort_key})


VERIFY = ("--stack", "Quietline", "audit", "verify", "--tenant", "harbor")


def test_audit_verify_reports_an_intact_chain_and_exits_3_on_tampering(moto_aws: None) -> None:
    log = _audit_log()
    keys = _append(log, range(4))
    _seal(log)
    intact = _run(*VERIFY)
    assert intact.exit_code == 0, intact.output
    assert "chain intact: 4 sealed event(s), head seal 4" in intact.output
    assert "unsealed tail: 0 event(s)" in intact.output
    _remove(keys[1])
    broken = CliRunner().invoke(cli_main.main, list(VERIFY))
    assert broken.exit_code == 3
    assert f"chain BROKEN at seal 2: removed (its event {keys[1]} is gone" in broken.output


def test_audit_verify_reports_the_unsealed_tail(moto_aws: None) -> None:
    log = _audit_log()
    _append(log, range(3))
    _seal(log)
    _append(log, range(3, 5))  # the sealer has not run since
    result = _run(*VERIFY)
    assert result.exit_code == 0, result.output
    assert "chain intact: 3 sealed event(s)" in result.output
    assert "unsealed tail: 2 event(s), the oldest appended" in result.output
    assert "(2026-11-28T10:00:03.000Z)" in result.output


def test_audit_seal_seals_what_the_stream_consumer_did_not(moto_aws: None) -> None:
    # Given events the stream's sealer never sealed (its batch went to the DLQ)
    log = _audit_log()
    _append(log, range(3))

    # When the operator seals the tail from the table
    sealed = _run("--stack", "Quietline", "audit", "seal", "--tenant", "harbor")

    # Then they are in the chain, and the stream's own records of them seal nothing twice
    assert sealed.exit_code == 0 and "sealed 3 event(s); 0 already sealed" in sealed.output
    _append(log, range(3, 4))
    _seal(log)
    result = _run(*VERIFY)
    assert "chain intact: 4 sealed event(s), head seal 4" in result.output
    assert "unsealed tail: 0 event(s)" in result.output


TRAIL_LOG_GROUP = "quietline-trail"


def _trail_appends(*records: tuple[str, str, str, str | None]) -> None:
    """CloudTrail data events in the trail's log group, shaped as DynamoDB writes them:
    (table, partition, sort key, errorCode) -> a PutItem naming only the item's key."""
    logs = boto3.client("logs")
    logs.create_log_group(logGroupName=TRAIL_LOG_GROUP)
    logs.create_log_stream(logGroupName=TRAIL_LOG_GROUP, logStreamName="123456789012_CloudTrail")
    now_ms = int(time.time() * 1000)
    events = []
    for n, (table, partition, sort_key, error) in enumerate(records):
        event: dict[str, Any] = {
            "eventVersion": "1.09",
            "eventSource": "dynamodb.amazonaws.com",
            "eventName": "PutItem",
            "eventCategory": "Data",
            "requestParameters": {"tableName": table, "key": {"pk": partition, "seq": sort_key}},
        }
        if error:
            event["errorCode"] = error
        events.append({"timestamp": now_ms - 60_000 + n, "message": json.dumps(event)})
    logs.put_log_events(
        logGroupName=TRAIL_LOG_GROUP, logStreamName="123456789012_CloudTrail", logEvents=events
    )


def test_audit_verify_against_the_trail_finds_the_newest_events_removed(moto_aws: None) -> None:
    log = _audit_log(TrailLogGroupName=TRAIL_LOG_GROUP)
    keys = _append(log, range(5))
    _seal(log)
    _trail_appends(
        *(("audit", "AUDIT#harbor", key, None) for key in keys),
        # A refused append wrote nothing; other tenants, tables and the sealer's items differ.
        (
            "audit",
            "AUDIT#harbor",
            "E#2026-11-28T10:00:09.000Z#ff",
            "ConditionalCheckFailedException",
        ),
        ("audit", "AUDIT#cedar", "E#2026-11-28T10:00:09.000Z#ee", None),
        ("messages", "AUDIT#harbor", "E#2026-11-28T10:00:09.000Z#dd", None),
        ("audit", "AUDIT#harbor", "S#000000000009", None),
    )
    agrees = CliRunner().invoke(cli_main.main, [*VERIFY, "--against-trail"])
    assert agrees.exit_code == 0, agrees.output
    assert "CloudTrail agrees: all 5 append(s) it recorded in the last 90 day(s)" in agrees.output

    # Remove the two newest events with their links and markers: a shorter chain, still valid...
    _remove(keys[4], sealed_as=5)
    _remove(keys[3], sealed_as=4)
    alone = CliRunner().invoke(cli_main.main, list(VERIFY))
    assert alone.exit_code == 0 and "chain intact: 3 sealed event(s)" in alone.output
    # ...which only the trail's record of the appends exposes.
    removed = CliRunner().invoke(cli_main.main, [*VERIFY, "--against-trail"])
    assert removed.exit_code == 3
    assert "events REMOVED: CloudTrail recorded 5 append(s)" in removed.output
    assert f"2 of them are not in the table (the newest: {keys[4]})" in removed.output


def test_audit_verify_against_the_trail_finds_an_event_removed_before_it_was_sealed(
    moto_aws: None,
) -> None:
    log = _audit_log(TrailLogGroupName=TRAIL_LOG_GROUP)
    sealed = _append(log, range(2))
    _seal(log)
    (unsealed,) = _append(log, range(2, 3))
    _trail_appends(*(("audit", "AUDIT#harbor", key, None) for key in [*sealed, unsealed]))
    _remove(unsealed)

    result = CliRunner().invoke(cli_main.main, [*VERIFY, "--against-trail"])

    assert result.exit_code == 3
    assert "unsealed tail: 0 event(s)" in result.output
    assert f"1 of them are not in the table (the newest: {unsealed})" in result.output


def test_audit_verify_against_the_trail_needs_the_stacks_trail(moto_aws: None) -> None:
    _append(_audit_log(), range(1))  # outputs without TrailLogGroupName: an organization's trail
    result = CliRunner().invoke(cli_main.main, [*VERIFY, "--against-trail"])
    assert result.exit_code == 1 and "TrailLogGroupName" in result.output


def test_audit_export_writes_csv_for_a_time_range(moto_aws: None, tmp_path: Any) -> None:
    log = _audit_log()
    keys = _append(log, range(6))
    _seal(log)
    out = tmp_path / "audit.csv"
    result = _run(
        "--stack",
        "Quietline",
        "audit",
        "export",
        "--tenant",
        "harbor",
        "--from",
        "2026-11-28T10:00:02",
        "--to",
        "2026-11-28T10:00:05",
        "--output",
        str(out),
    )
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("key,at,tenant_id,actor,action,outcome")
    assert [line.split(",")[0] for line in lines[1:]] == keys[2:5]


def test_restore_creates_a_new_table_with_the_data_as_of_the_restore_time(table: Any) -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.update_continuous_backups(
        TableName=TABLE_NAME, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    table.put_item(Item={"pk": "TENANT#harbor", "sk": "PROFILE", "display_name": "Harbor"})
    _deploy_outputs({"MessageTableName": TABLE_NAME})
    result = _run("--stack", "Quietline", "backups", "restore", "--to-table", "quietline-restored")
    assert result.exit_code == 0, result.output
    assert "1 item(s), ACTIVE, PITR on" in result.output
    restored = dynamodb.describe_table(TableName="quietline-restored")["Table"]
    assert {i["IndexName"] for i in restored["GlobalSecondaryIndexes"]} == {
        "by_activity",
        "by_pending",
    }
    assert dynamodb.get_item(
        TableName="quietline-restored", Key={"pk": {"S": "TENANT#harbor"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    # The live table is untouched.
    assert dynamodb.describe_table(TableName=TABLE_NAME)["Table"]["TableStatus"] == "ACTIVE"


def test_numbers_assign_maps_a_number_to_a_tenant_and_names_an_unknown_tenant(
    table: Any, directory: Any
) -> None:
    _deploy_outputs({"MessageTableName": TABLE_NAME})
    ok = _run("--stack", "Quietline", "numbers", "assign", "--tenant", "cedar", "+13125550100")
    assert ok.exit_code == 0 and "now belongs to tenant cedar" in ok.output
    assert MessageStore(table).tenant_id_for_number("+13125550100") == "cedar"
    unknown = CliRunner().invoke(
        cli_main.main,
        ["--stack", "Quietline", "numbers", "assign", "--tenant", "nope", "+13125550101"],
    )
    assert unknown.exit_code == 1 and "tenant not found" in unknown.output
    taken = CliRunner().invoke(
        cli_main.main,
        ["--stack", "Quietline", "numbers", "assign", "--tenant", "cedar", BUSINESS_NUMBER],
    )
    assert taken.exit_code == 1 and "belongs to another tenant" in taken.output


def test_numbers_request_turns_on_two_way_and_assigns_the_number(
    table: Any, directory: Any, sms: Any
) -> None:
    topic = "arn:aws:sns:us-east-1:123456789012:quietline-inbound"
    _deploy_outputs({"MessageTableName": TABLE_NAME, "InboundSmsTopicArn": topic})
    with Stubber(sms) as stub:
        stub.add_response(
            "request_phone_number",
            {"PhoneNumberId": "phone-9", "PhoneNumber": "+18885550100"},
            {
                "IsoCountryCode": "US",
                "MessageType": "TRANSACTIONAL",
                "NumberCapabilities": ["SMS"],
                "NumberType": "TOLL_FREE",
                "DeletionProtectionEnabled": True,
            },
        )
        stub.add_response(
            "update_phone_number",
            {"PhoneNumberId": "phone-9"},
            {
                "PhoneNumberId": "phone-9",
                "TwoWayEnabled": True,
                "TwoWayChannelArn": topic,
                "SelfManagedOptOutsEnabled": True,
            },
        )
        result = _run("--stack", "Quietline", "numbers", "request", "--tenant", "harbor")
        stub.assert_no_pending_responses()
    assert result.exit_code == 0 and "assigned to harbor" in result.output
    assert MessageStore(table).tenant_id_for_number("+18885550100") == "harbor"
