"""The message table (built from functions/dal/schema.py) and its backups."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Capture, Match, Matcher, Template

from functions.dal import schema
from infra.stack import QuietlineStack
from tests.infra.conftest import Resource, arn, logical_id, ref, resource

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


@pytest.fixture(scope="module")
def table(stack: QuietlineStack, app_template: Template) -> Resource:
    return resource(app_template, stack.message_store.table)


def test_table_is_keyed_by_pk_and_sk(table: Resource) -> None:
    # The data layer's single-table design: pk = conversation, sk = item (docs/data-model.md).
    table.has_properties(
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ]
        }
    )


def test_table_has_the_activity_and_pending_outbound_indexes(table: Resource) -> None:
    def index(name: str, partition_key: str, sort_key: str) -> Matcher:
        return Match.object_equals(
            {
                "IndexName": name,
                "KeySchema": [
                    {"AttributeName": partition_key, "KeyType": "HASH"},
                    {"AttributeName": sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )

    table.has_properties(
        {
            "GlobalSecondaryIndexes": [
                index("by_activity", "gsi1pk", "gsi1sk"),
                index("by_pending", "gsi2pk", "gsi2sk"),
            ]
        }
    )


def test_table_matches_what_local_mode_creates(table: Resource) -> None:
    # Local mode creates its table from the same schema: the two must not drift apart.
    local = schema.create_table_kwargs("any")
    attributes = sorted(local["AttributeDefinitions"], key=lambda a: a["AttributeName"])

    deployed = Capture()
    table.has_properties({"BillingMode": local["BillingMode"], "AttributeDefinitions": deployed})
    assert sorted(deployed.as_array(), key=lambda a: a["AttributeName"]) == attributes


def test_table_ttl_attribute_is_expires_at(table: Resource) -> None:
    table.has_properties(
        {
            "TimeToLiveSpecification": Match.object_equals(
                {"AttributeName": "expires_at", "Enabled": True}
            )
        }
    )


def test_table_is_encrypted_with_the_platform_customer_managed_key(
    stack: QuietlineStack, table: Resource
) -> None:
    table.has_properties(
        {
            "SSESpecification": Match.object_equals(
                {
                    "SSEEnabled": True,
                    "SSEType": "KMS",
                    "KMSMasterKeyId": arn(stack.platform_key.key),
                }
            )
        }
    )


def test_table_has_point_in_time_recovery(table: Resource) -> None:
    table.has_properties({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})


def test_table_survives_stack_deletion_and_accidental_delete(table: Resource) -> None:
    table.has(
        {
            "Properties": {"DeletionProtectionEnabled": True},
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    )


def test_table_bills_per_request(table: Resource) -> None:
    table.has_properties({"BillingMode": "PAY_PER_REQUEST"})


def test_backup_selection_covers_the_table(stack: QuietlineStack, app_template: Template) -> None:
    table_arn = arn(stack.message_store.table)

    app_template.resource_properties_count_is(
        "AWS::Backup::BackupSelection",
        {"BackupSelection": {"Resources": Match.array_with([table_arn])}},
        1,
    )
    app_template.has_resource_properties(
        "AWS::Backup::BackupSelection",
        {
            "BackupSelection": {"Resources": [table_arn]},
            "BackupPlanId": {"Fn::GetAtt": [logical_id(stack.backups.plan), "BackupPlanId"]},
        },
    )


def test_backup_plan_keeps_daily_35_days_and_monthly_a_year(
    stack: QuietlineStack, app_template: Template
) -> None:
    vault = {"Fn::GetAtt": [logical_id(stack.backups.vault), "BackupVaultName"]}

    resource(app_template, stack.backups.plan).has_properties(
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    {
                        "RuleName": "Daily",
                        "Lifecycle": Match.object_equals({"DeleteAfterDays": 35}),
                        "TargetBackupVault": vault,
                    },
                    {
                        "RuleName": "Monthly",
                        "Lifecycle": Match.object_equals({"DeleteAfterDays": 365}),
                        "ScheduleExpression": Match.string_like_regexp(r"^cron\(0 5 1 "),
                        "TargetBackupVault": vault,
                    },
                ]
            }
        }
    )


def test_backup_vault_is_encrypted_retained_and_blocks_manual_deletion(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.backups.vault).has(
        {
            "Properties": {
                "EncryptionKeyArn": arn(stack.platform_key.key),
                "AccessPolicy": {
                    "Statement": [
                        {
                            "Effect": "Deny",
                            "Action": Match.array_with(["backup:DeleteRecoveryPoint"]),
                        }
                    ]
                },
            },
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        }
    )


def test_failed_backup_jobs_notify_the_alarm_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.backups.vault).has_properties(
        {
            "Notifications": {
                "SNSTopicArn": ref(stack.alarms.topic),
                "BackupVaultEvents": Match.array_with(["BACKUP_JOB_FAILED"]),
            }
        }
    )


def test_table_streams_new_images_for_the_staff_notifier(table: Resource) -> None:
    # Images hold ciphertext and blind-index ids only; the stream keeps the table's key.
    table.has_properties({"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}})
