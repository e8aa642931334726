"""The message table (built from functions/dal/schema.py) and its backups."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dal import schema
from infra.stack import QuietlineStack
from tests.infra.conftest import get_att_arn, logical_id, only, resources

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


@pytest.fixture(scope="module")
def table(stack: QuietlineStack, template: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id(stack.message_store.table)]
    return found


def test_table_keys_come_from_the_shared_schema(table: dict[str, Any]) -> None:
    assert table["Properties"]["KeySchema"] == [
        {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
    ]


def test_table_global_indexes_equal_the_shared_schema(table: dict[str, Any]) -> None:
    deployed = {
        index["IndexName"]: (
            index["KeySchema"],
            index["Projection"],
        )
        for index in table["Properties"]["GlobalSecondaryIndexes"]
    }

    assert deployed == {
        index.name: (
            [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ],
            {"ProjectionType": "ALL"},
        )
        for index in schema.GLOBAL_INDEXES
    }


def test_table_matches_what_local_mode_creates(table: dict[str, Any]) -> None:
    local = schema.create_table_kwargs("any")
    props = table["Properties"]

    assert props["BillingMode"] == local["BillingMode"]
    assert props["StreamSpecification"] == {
        "StreamViewType": local["StreamSpecification"]["StreamViewType"]
    }
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        local["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )


def test_table_ttl_attribute_is_the_schemas(table: dict[str, Any]) -> None:
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_table_is_encrypted_with_the_platform_customer_managed_key(
    stack: QuietlineStack, table: dict[str, Any]
) -> None:
    assert table["Properties"]["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": get_att_arn(logical_id(stack.platform_key.key)),
    }


def test_table_has_point_in_time_recovery(table: dict[str, Any]) -> None:
    assert (
        table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]
        is True
    )


def test_table_survives_stack_deletion_and_accidental_delete(table: dict[str, Any]) -> None:
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_table_bills_per_request(table: dict[str, Any]) -> None:
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"


def test_backup_selection_covers_the_table(stack: QuietlineStack, template: dict[str, Any]) -> None:
    table_arn = get_att_arn(logical_id(stack.message_store.table))
    _, selection = only(
        {
            k: s
            for k, s in resources(template, "AWS::Backup::BackupSelection").items()
            if table_arn in s["Properties"]["BackupSelection"]["Resources"]
        }
    )

    assert selection["Properties"]["BackupSelection"]["Resources"] == [table_arn]
    assert selection["Properties"]["BackupPlanId"] == {
        "Fn::GetAtt": [logical_id(stack.backups.plan), "BackupPlanId"]
    }


def test_backup_plan_keeps_daily_35_days_and_monthly_a_year(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    plan = template["Resources"][logical_id(stack.backups.plan)]
    rules = {rule["RuleName"]: rule for rule in plan["Properties"]["BackupPlan"]["BackupPlanRule"]}

    assert rules["Daily"]["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rules["Monthly"]["Lifecycle"] == {"DeleteAfterDays": 365}
    assert rules["Monthly"]["ScheduleExpression"].startswith("cron(0 5 1 ")
    for rule in rules.values():
        assert rule["TargetBackupVault"] == {
            "Fn::GetAtt": [logical_id(stack.backups.vault), "BackupVaultName"]
        }


def test_backup_vault_is_encrypted_retained_and_blocks_manual_deletion(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    vault = template["Resources"][logical_id(stack.backups.vault)]

    assert vault["Properties"]["EncryptionKeyArn"] == get_att_arn(
        logical_id(stack.platform_key.key)
    )
    assert vault["DeletionPolicy"] == "Retain"
    assert vault["UpdateReplacePolicy"] == "Retain"
    (deny,) = vault["Properties"]["AccessPolicy"]["Statement"]
    assert deny["Effect"] == "Deny"
    assert "backup:DeleteRecoveryPoint" in deny["Action"]


def test_failed_backup_jobs_notify_the_alarm_topic(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    notifications = template["Resources"][logical_id(stack.backups.vault)]["Properties"][
        "Notifications"
    ]

    assert notifications["SNSTopicArn"] == {"Ref": logical_id(stack.alarms.topic)}
    assert "BACKUP_JOB_FAILED" in notifications["BackupVaultEvents"]
