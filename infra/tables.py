"""What every Quietline DynamoDB table shares, so neither table can miss a protection."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from functions.dal import schema


def string_attribute(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def protected_table(
    scope: Construct,
    *,
    platform_key: kms.IKey,
    partition_key: str,
    sort_key: str,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.Table:
    """aws_dynamodb.Table (a CfnTable) rather than TableV2: cdk-nag's DynamoDBPITREnabled /
    DynamoDBInBackupPlan rules only inspect CfnTable. `stream`: a change stream, encrypted
    with the table's key like the table (kept 24 hours by DynamoDB)."""
    return dynamodb.Table(
        scope,
        "Table",
        partition_key=string_attribute(partition_key),
        sort_key=string_attribute(sort_key),
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        # 164.312(a)(2)(iv): at rest under the practice's own key, not an AWS-owned one.
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=platform_key,
        # 164.308(a)(7) contingency plan: restore to any second of the last 35 days.
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True, recovery_period_in_days=35
        ),
        # Records (PHI, six years of audit events) survive any stack update or delete.
        deletion_protection=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
        # Items expire at the retention date their writer sets (messages, audit events);
        # shredding a tenant happens by key deletion.
        time_to_live_attribute=schema.TTL_ATTRIBUTE,
        # A stream (the audit table's, for its sealer) is encrypted with the table's key.
        stream=stream,
        # Contributor Insights stays off (default): its top-key reports would show
        # partition keys, and it is not needed to operate the table.
    )
