"""Audit controls: the application audit table (from functions/dal/schema.py), the
CloudTrail trail with its key, Object-Locked bucket, access-log bucket and log group, and
the security metric filters with their alarms. The Twilio variant uses an existing
organization trail: no trail is deployed there."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template

from functions.dal import schema
from infra.constructs.alarms import Alarms
from infra.constructs.audit import (
    SECURITY_ALARMS,
    SECURITY_METRICS_NAMESPACE,
    SecurityAlarm,
    SecurityTrail,
)
from infra.constructs.keys import PlatformKey
from infra.stack import QuietlineStack
from local.streams import matches as stream_filter_matches
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    Synthesized,
    as_list,
    get_att_arn,
    logical_id,
    make_config,
    only,
    only_template,
    plain_app,
    quietline_stack,
    resources,
    statements,
)
from tests.infra.filter_pattern import matches

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/Quietline-audit"


def _resource(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id(construct)]
    return found


def _props(template: dict[str, Any], construct: Any) -> dict[str, Any]:
    found: dict[str, Any] = _resource(template, construct)["Properties"]
    return found


def _trail(stack: QuietlineStack) -> SecurityTrail:
    assert stack.trail is not None
    return stack.trail


def _bucket_policy(template: dict[str, Any], bucket: Any) -> list[dict[str, Any]]:
    _, policy = only(
        {
            k: p
            for k, p in resources(template, "AWS::S3::BucketPolicy").items()
            if p["Properties"]["Bucket"] == {"Ref": logical_id(bucket)}
        }
    )
    return statements(policy["Properties"]["PolicyDocument"])


# --- the application audit table ---------------------------------------------------------------
@pytest.fixture(scope="module")
def audit_table(stack: QuietlineStack, template: dict[str, Any]) -> dict[str, Any]:
    return _resource(template, stack.audit_log.table)


def test_audit_table_keys_and_index_equal_what_local_mode_creates(
    audit_table: dict[str, Any],
) -> None:
    expected = schema.create_audit_table_kwargs("any")
    props = audit_table["Properties"]

    assert props["KeySchema"] == expected["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    assert props["LocalSecondaryIndexes"] == expected["LocalSecondaryIndexes"]
    assert props["BillingMode"] == expected["BillingMode"]
    assert "GlobalSecondaryIndexes" not in props


def test_audit_table_is_encrypted_with_the_platform_key(
    stack: QuietlineStack, audit_table: dict[str, Any]
) -> None:
    assert audit_table["Properties"]["SSESpecification"] == {
        "KMSMasterKeyId": get_att_arn(logical_id(stack.platform_key.key)),
        "SSEEnabled": True,
        "SSEType": "KMS",
    }


def test_audit_table_is_recoverable_and_cannot_be_deleted(audit_table: dict[str, Any]) -> None:
    props = audit_table["Properties"]

    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["DeletionProtectionEnabled"] is True
    assert audit_table["DeletionPolicy"] == "Retain"
    assert audit_table["UpdateReplacePolicy"] == "Retain"


def test_audit_links_expire_through_the_schemas_ttl_attribute(audit_table: dict[str, Any]) -> None:
    assert audit_table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": schema.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_audit_table_is_in_the_backup_plan(stack: QuietlineStack, template: dict[str, Any]) -> None:
    table_arn = get_att_arn(logical_id(stack.audit_log.table))
    selections = [
        s["Properties"]
        for s in resources(template, "AWS::Backup::BackupSelection").values()
        if table_arn in s["Properties"]["BackupSelection"]["Resources"]
    ]

    assert len(selections) == 1
    assert selections[0]["BackupPlanId"] == {
        "Fn::GetAtt": [logical_id(stack.backups.plan), "BackupPlanId"]
    }


def test_audit_table_streams_new_images_as_local_mode_defines(audit_table: dict[str, Any]) -> None:
    expected = schema.create_audit_table_kwargs("any")["StreamSpecification"]

    assert expected["StreamEnabled"] is True
    assert audit_table["Properties"]["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert expected["StreamViewType"] == "NEW_IMAGE"


# --- the sealer (the audit stream's consumer) -----------------------------------------------------
@pytest.fixture(scope="module")
def assertions(quietline: Synthesized) -> Template:
    return quietline.template("Quietline")


def _sealer_statements(template: dict[str, Any], stack: QuietlineStack) -> list[dict[str, Any]]:
    policy = template["Resources"][logical_id(stack.audit_log.sealer.handler.role.policy)]
    return statements(policy["Properties"]["PolicyDocument"])


def _sealer_mapping(template: dict[str, Any], stack: QuietlineStack) -> dict[str, Any]:
    return _props(template, stack.audit_log.sealer.source)


def test_the_sealer_reads_the_audit_stream_one_batch_per_shard_from_its_oldest_record(
    stack: QuietlineStack, assertions: Template
) -> None:
    sealer = stack.audit_log.sealer.handler
    assertions.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "EventSourceArn": {"Fn::GetAtt": [logical_id(stack.audit_log.table), "StreamArn"]},
            "FunctionName": {"Ref": logical_id(sealer.function)},
            "ParallelizationFactor": 1,
            "StartingPosition": "TRIM_HORIZON",
        },
    )


def test_a_failing_sealer_batch_is_bisected_retried_a_bounded_number_of_times_then_dead_lettered(
    stack: QuietlineStack, assertions: Template, template: dict[str, Any]
) -> None:
    dead_letters = stack.audit_log.sealer.handler.dead_letter_queue
    assertions.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": Match.any_value(),
            "DestinationConfig": {
                "OnFailure": {"Destination": get_att_arn(logical_id(dead_letters))}
            },
        },
    )
    retries = _sealer_mapping(template, stack)["MaximumRetryAttempts"]
    assert 0 < retries <= 10_000  # -1 would retry until the record expires (24 hours)


def test_the_sealers_dead_letters_are_encrypted_with_the_platform_key_and_alarmed(
    stack: QuietlineStack, assertions: Template
) -> None:
    dead_letters = stack.audit_log.sealer.handler.dead_letter_queue
    assertions.has_resource_properties(
        "AWS::SQS::Queue",
        {"KmsMasterKeyId": get_att_arn(logical_id(stack.platform_key.key))},
    )
    assertions.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [
                {
                    "Name": "QueueName",
                    "Value": {"Fn::GetAtt": [logical_id(dead_letters), "QueueName"]},
                }
            ],
            "AlarmActions": Match.array_with([{"Ref": logical_id(stack.alarms.topic)}]),
        },
    )


def test_events_waiting_to_be_sealed_raise_an_alarm_long_before_the_stream_drops_them(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    alarm = _props(template, stack.audit_log.sealer.lag_alarm)

    assert alarm["MetricName"] == "IteratorAge" and alarm["Namespace"] == "AWS/Lambda"
    assert alarm["Dimensions"] == [
        {
            "Name": "FunctionName",
            "Value": {"Ref": logical_id(stack.audit_log.sealer.handler.function)},
        }
    ]
    assert alarm["Statistic"] == "Maximum"
    assert 0 < alarm["Threshold"] <= 60 * 60 * 1000  # an hour at most of the stream's 24
    assert {"Ref": logical_id(stack.alarms.topic)} in alarm["AlarmActions"]


@pytest.mark.parametrize(
    ("event_name", "sort_key", "sealed"),
    [
        ("INSERT", "E#2026-11-28T10:00:00.000Z#00112233445566778899", True),
        ("INSERT", "S#000000000001", False),
        ("INSERT", "M#E#2026-11-28T10:00:00.000Z#00112233445566778899", False),
        ("MODIFY", "E#2026-11-28T10:00:00.000Z#00112233445566778899", False),
        ("REMOVE", "E#2026-11-28T10:00:00.000Z#00112233445566778899", False),
    ],
)
def test_the_deployed_filter_passes_new_events_only_as_local_mode_does(
    stack: QuietlineStack, template: dict[str, Any], event_name: str, sort_key: str, sealed: bool
) -> None:
    (deployed,) = _sealer_mapping(template, stack)["FilterCriteria"]["Filters"]
    record = {"eventName": event_name, "dynamodb": {"Keys": {"seq": {"S": sort_key}}}}

    pattern = json.loads(deployed["Pattern"])

    assert stream_filter_matches(pattern, record) is sealed
    assert stream_filter_matches(schema.AUDIT_SEALER_FILTER, record) is sealed


def test_the_sealer_role_reads_the_stream_and_writes_links_only_in_transactions(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    table_id = logical_id(stack.audit_log.table)
    stream_arn = {"Fn::GetAtt": [table_id, "StreamArn"]}
    on_stream: set[str] = set()
    on_table: dict[str, Any] = {}
    for statement in _sealer_statements(template, stack):
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            if resource == stream_arn:
                on_stream |= set(as_list(statement["Action"]))
            elif resource == get_att_arn(table_id):
                for action in as_list(statement["Action"]):
                    on_table[action] = statement.get("Condition")

    assert on_stream == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    assert on_table == {
        "dynamodb:Query": None,
        "dynamodb:PutItem": {
            "ForAnyValue:StringEquals": {"dynamodb:EnclosingOperation": ["TransactWriteItems"]}
        },
    }


def test_the_sealer_role_touches_nothing_else_of_dynamodb_and_the_key_only_through_it(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    table_id = logical_id(stack.audit_log.table)
    platform_key = get_att_arn(logical_id(stack.platform_key.key))
    for statement in _sealer_statements(template, stack):
        actions = set(as_list(statement["Action"]))
        if any(a.startswith("dynamodb:") for a in actions):
            assert all(table_id in json.dumps(r) for r in as_list(statement["Resource"]))
        kms_actions = {a for a in actions if a.startswith("kms:")}
        if not kms_actions:
            continue
        assert statement["Resource"] == platform_key
        through = statement["Condition"]["StringEquals"]["kms:ViaService"]
        if through == f"sqs.{REGION}.amazonaws.com":
            assert kms_actions <= {"kms:Decrypt", "kms:GenerateDataKey"}  # its DLQ's data keys
        else:
            # The table's key as DynamoDB uses it for the table and the stream, nowhere else.
            assert through == [
                f"dynamodb.{REGION}.amazonaws.com",
                f"streams.dynamodb.{REGION}.amazonaws.com",
            ]
            assert kms_actions == {
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
            }


def test_only_the_sealer_may_read_the_audit_stream_and_other_writers_only_put(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    table_id = logical_id(stack.audit_log.table)
    sealer_policy = logical_id(stack.audit_log.sealer.handler.role.policy)
    writers = 0
    for policy_id, policy in resources(template, "AWS::IAM::ManagedPolicy").items():
        if policy_id == sealer_policy:
            continue
        for statement in statements(policy["Properties"]["PolicyDocument"]):
            named = json.dumps(as_list(statement["Resource"]))
            assert "StreamArn" not in named or table_id not in named, policy_id
            if table_id in named and "dynamodb:PutItem" in as_list(statement["Action"]):
                writers += 1
                assert set(as_list(statement["Action"])) == {"dynamodb:PutItem"}, policy_id
    assert writers  # the staff API and the secure page append events


# --- the trail ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trail(stack: QuietlineStack, template: dict[str, Any]) -> dict[str, Any]:
    return _props(template, _trail(stack).trail)


def test_trail_covers_every_region_validates_files_and_is_encrypted(
    stack: QuietlineStack, trail: dict[str, Any]
) -> None:
    security = _trail(stack)

    assert trail["TrailName"] == security.trail_name
    assert trail["IsLogging"] is True
    assert trail["IsMultiRegionTrail"] is True
    assert trail["IncludeGlobalServiceEvents"] is True
    assert trail["EnableLogFileValidation"] is True
    # Its own key: not the platform key that encrypts the data it audits.
    assert trail["KMSKeyId"] == get_att_arn(logical_id(security.key))
    assert trail["S3BucketName"] == {"Ref": logical_id(security.bucket)}


def test_trail_is_delivered_to_its_encrypted_retained_log_group(
    stack: QuietlineStack, template: dict[str, Any], trail: dict[str, Any]
) -> None:
    security = _trail(stack)
    group = _resource(template, security.log_group)

    assert trail["CloudWatchLogsLogGroupArn"] == get_att_arn(logical_id(security.log_group))
    assert trail["CloudWatchLogsRoleArn"] == get_att_arn(logical_id(security.logs_role))
    assert group["Properties"]["KmsKeyId"] == get_att_arn(logical_id(stack.platform_key.key))
    assert group["Properties"]["RetentionInDays"] >= stack.config.audit_retention_days
    assert group["DeletionPolicy"] == "Retain"


def test_trail_role_may_only_write_to_its_log_group_for_this_trail(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    security = _trail(stack)
    role = _props(template, security.logs_role)
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    (grant,) = statements(_props(template, security.logs_role.policy)["PolicyDocument"])

    assert trust["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL_ARN}}
    assert set(as_list(grant["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert grant["Resource"] == get_att_arn(logical_id(security.log_group))


def test_trail_records_all_management_events_kms_included(trail: dict[str, Any]) -> None:
    assert "EventSelectors" not in trail  # advanced selectors only (they replace basic ones)
    management = [
        selector
        for selector in trail["AdvancedEventSelectors"]
        if {"Field": "eventCategory", "Equals": ["Management"]} in selector["FieldSelectors"]
    ]

    (selector,) = management
    # Read and write (no readOnly field), and nothing excluded: KMS events stay in.
    assert selector["FieldSelectors"] == [{"Field": "eventCategory", "Equals": ["Management"]}]
    assert "kms.amazonaws.com" not in json.dumps(trail["AdvancedEventSelectors"])


def test_trail_records_data_events_of_the_message_and_audit_tables(
    stack: QuietlineStack, trail: dict[str, Any]
) -> None:
    data = [
        selector
        for selector in trail["AdvancedEventSelectors"]
        if {"Field": "eventCategory", "Equals": ["Data"]} in selector["FieldSelectors"]
    ]

    (selector,) = data
    fields = {field["Field"]: field for field in selector["FieldSelectors"]}
    assert fields["resources.type"] == {
        "Field": "resources.type",
        "Equals": ["AWS::DynamoDB::Table"],
    }
    assert sorted(map(json.dumps, fields["resources.ARN"]["Equals"])) == sorted(
        json.dumps(get_att_arn(logical_id(table)))
        for table in (stack.message_store.table, stack.audit_log.table)
    )


def test_trail_waits_for_its_bucket_policy_key_and_role(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    security = _trail(stack)
    depends_on = _resource(template, security.trail)["DependsOn"]
    bucket_policy = security.bucket.policy
    assert bucket_policy is not None

    for construct in (bucket_policy, security.key, security.logs_role.policy):
        assert logical_id(construct) in depends_on


# --- the trail's key (the platform key) ----------------------------------------------------------
def test_the_platform_key_serves_cloudtrail_for_this_trail_only_and_never_decrypts(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    # No third key for the trail ($1 a month): the platform key, with CloudTrail scoped.
    assert _trail(stack).key is stack.platform_key.key
    key = _resource(template, _trail(stack).key)
    cloudtrail = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}
    ]

    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert cloudtrail
    for statement in cloudtrail:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    (encrypt,) = [s for s in cloudtrail if "kms:GenerateDataKey*" in as_list(s["Action"])]
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
    }
    # CloudTrail only encrypts: it can never decrypt anything under the platform key.
    actions = {action for s in cloudtrail for action in as_list(s["Action"])}
    assert actions == {"kms:GenerateDataKey*", "kms:DescribeKey"}


# --- the buckets ----------------------------------------------------------------------------------
def test_trail_bucket_locks_every_file_for_the_configured_period(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    bucket = _resource(template, _trail(stack).bucket)
    props = bucket["Properties"]
    settings = stack.config.cloudtrail

    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {
            "DefaultRetention": {
                "Days": settings.object_lock_days,
                "Mode": settings.object_lock_mode,
            }
        },
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["DeletionPolicy"] == "Retain"


def test_no_lifecycle_rule_deletes_a_file_before_its_lock_ends(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    security = _trail(stack)
    lock_days = stack.config.cloudtrail.object_lock_days
    trail_rules = _props(template, security.bucket)["LifecycleConfiguration"]["Rules"]

    assert trail_rules
    for rule in trail_rules:
        assert rule.get("ExpirationInDays", lock_days) >= lock_days
        assert rule.get("ExpirationInDays", 0) >= stack.config.audit_retention_days
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", lock_days)
        assert noncurrent >= lock_days
        assert not rule.get("Transitions")


@pytest.mark.parametrize("which", ["bucket", "access_log_bucket"])
def test_buckets_are_private_kms_encrypted_ssl_only_and_retained(
    stack: QuietlineStack, template: dict[str, Any], which: str
) -> None:
    security = _trail(stack)
    construct = getattr(security, which)
    bucket = _resource(template, construct)
    props = bucket["Properties"]

    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": get_att_arn(logical_id(security.key)),
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["DeletionPolicy"] == "Retain"
    denies = [s for s in _bucket_policy(template, construct) if s["Effect"] == "Deny"]
    assert any(d["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for d in denies)
    assert all(d["Principal"] == {"AWS": "*"} for d in denies)


def test_trail_bucket_access_is_logged_to_the_access_log_bucket(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    security = _trail(stack)
    logging = _props(template, security.bucket)["LoggingConfiguration"]

    assert logging["DestinationBucketName"] == {"Ref": logical_id(security.access_log_bucket)}
    (delivery,) = [
        s for s in _bucket_policy(template, security.access_log_bucket) if s["Effect"] == "Allow"
    ]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["ArnLike"]["aws:SourceArn"] == get_att_arn(
        logical_id(security.bucket)
    )
    assert delivery["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT


def test_only_this_trail_may_write_to_the_trail_bucket(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    allows = [s for s in _bucket_policy(template, _trail(stack).bucket) if s["Effect"] == "Allow"]

    assert {s["Sid"] for s in allows} == {"AWSCloudTrailAclCheck", "AWSCloudTrailWrite"}
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    (write,) = [s for s in allows if s["Sid"] == "AWSCloudTrailWrite"]
    assert write["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    assert write["Resource"]["Fn::Join"][1][-1] == f"/AWSLogs/{ACCOUNT}/*"


# --- security metric filters and alarms -----------------------------------------------------------
# One CloudTrail event each filter must catch, and a look-alike it must let pass.
SAMPLE_EVENTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "KmsKeyDisabledOrScheduledForDeletion": (
        {"eventSource": "kms.amazonaws.com", "eventName": "ScheduleKeyDeletion"},
        {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt"},
    ),
    "CloudTrailChanged": (
        {"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"},
        {"eventSource": "cloudtrail.amazonaws.com", "eventName": "LookupEvents"},
    ),
    "IamPolicyChanged": (
        {"eventSource": "iam.amazonaws.com", "eventName": "AttachRolePolicy"},
        {"eventSource": "iam.amazonaws.com", "eventName": "GetRolePolicy"},
    ),
    "UnauthorizedApiCalls": (
        {
            "eventName": "Decrypt",
            "errorCode": "AccessDenied",
            "sourceIPAddress": "203.0.113.7",
        },
        {"eventName": "Decrypt", "sourceIPAddress": "203.0.113.7"},
    ),
    "RootAccountUsed": (
        {"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall", "eventName": "PutKeyPolicy"},
        {
            "userIdentity": {"type": "Root", "invokedBy": "support.amazonaws.com"},
            "eventType": "AwsApiCall",
        },
    ),
    "ConsoleSignInWithoutMfa": (
        {
            "eventName": "ConsoleLogin",
            "userIdentity": {"type": "IAMUser"},
            "additionalEventData": {"MFAUsed": "No"},
            "responseElements": {"ConsoleLogin": "Success"},
        },
        {
            "eventName": "ConsoleLogin",
            "userIdentity": {"type": "IAMUser"},
            "additionalEventData": {"MFAUsed": "Yes"},
            "responseElements": {"ConsoleLogin": "Success"},
        },
    ),
}
# Further events each filter must catch (every name the CIS control lists).
MORE_MATCHES: dict[str, list[dict[str, Any]]] = {
    "KmsKeyDisabledOrScheduledForDeletion": [
        {"eventSource": "kms.amazonaws.com", "eventName": "DisableKey"}
    ],
    "CloudTrailChanged": [
        {"eventSource": "cloudtrail.amazonaws.com", "eventName": name}
        for name in ("DeleteTrail", "UpdateTrail", "PutEventSelectors", "PutAdvancedEventSelectors")
    ],
    "IamPolicyChanged": [
        {"eventName": f"{verb}{kind}Policy"}
        for verb in ("Delete", "Put")
        for kind in ("Group", "Role", "User")
    ]
    + [
        {"eventName": name}
        for name in ("CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion")
    ]
    + [
        {"eventName": f"{verb}{kind}Policy"}
        for verb in ("Attach", "Detach")
        for kind in ("Group", "Role", "User")
    ],
    "UnauthorizedApiCalls": [
        {"eventName": "RunInstances", "errorCode": "Client.UnauthorizedOperation"},
        {"eventName": "GetObject", "errorCode": "AccessDeniedException"},
    ],
}


def test_every_security_alarm_has_sample_events() -> None:
    assert set(SAMPLE_EVENTS) == {spec.metric_name for spec in SECURITY_ALARMS}


@pytest.mark.parametrize("spec", SECURITY_ALARMS, ids=lambda spec: spec.metric_name)
def test_each_filter_pattern_catches_its_event_and_not_a_look_alike(spec: SecurityAlarm) -> None:
    caught, passed = SAMPLE_EVENTS[spec.metric_name]

    assert matches(spec.pattern, caught)
    assert not matches(spec.pattern, passed)
    for event in MORE_MATCHES.get(spec.metric_name, []):
        assert matches(spec.pattern, event), event


def test_kms_key_filter_names_the_crypto_shredding_calls() -> None:
    (spec,) = [s for s in SECURITY_ALARMS if s.metric_name.startswith("Kms")]
    assert spec.pattern == (
        '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "DisableKey") || '
        '($.eventName = "ScheduleKeyDeletion")) }'
    )


@pytest.mark.parametrize("spec", SECURITY_ALARMS, ids=lambda spec: spec.metric_name)
def test_each_filter_is_on_the_trail_log_group_and_alarms_the_topic(
    stack: QuietlineStack, template: dict[str, Any], spec: SecurityAlarm
) -> None:
    security = _trail(stack)
    (metric_filter,) = [
        f["Properties"]
        for f in resources(template, "AWS::Logs::MetricFilter").values()
        if f["Properties"]["MetricTransformations"][0]["MetricName"] == spec.metric_name
    ]
    alarm = _props(template, security.alarms[spec.metric_name])

    assert metric_filter["FilterPattern"] == spec.pattern
    assert metric_filter["LogGroupName"] == {"Ref": logical_id(security.log_group)}
    assert metric_filter["MetricTransformations"] == [
        {
            "MetricName": spec.metric_name,
            "MetricNamespace": SECURITY_METRICS_NAMESPACE,
            "MetricValue": "1",
        }
    ]
    assert (alarm["Namespace"], alarm["MetricName"]) == (
        SECURITY_METRICS_NAMESPACE,
        spec.metric_name,
    )
    assert alarm["Statistic"] == "Sum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        spec.threshold,
    )
    assert alarm["AlarmActions"] == [{"Ref": logical_id(stack.alarms.topic)}]
    assert alarm["TreatMissingData"] == "notBreaching"


# --- outputs --------------------------------------------------------------------------------------
def test_outputs_name_the_audit_table_trail_and_bucket(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    outputs = template["Outputs"]
    security = _trail(stack)

    assert outputs["AuditTableName"]["Value"] == {"Ref": logical_id(stack.audit_log.table)}
    assert outputs["TrailName"]["Value"] == security.trail_name
    assert outputs["TrailBucketName"]["Value"] == {"Ref": logical_id(security.bucket)}
    assert outputs["TrailLogGroupName"]["Value"] == {"Ref": logical_id(security.log_group)}


# --- an existing organization trail (the Twilio variant) ------------------------------------------
@pytest.mark.xdist_group("synth-twilio")
def test_with_an_existing_trail_none_is_deployed_but_the_audit_table_is(
    twilio: Synthesized,
) -> None:
    stack = quietline_stack(twilio)
    template = only_template(twilio)
    types = {resource["Type"] for resource in template["Resources"].values()}

    assert stack.config.cloudtrail.existing_trail is True
    assert stack.trail is None
    assert "AWS::CloudTrail::Trail" not in types
    assert "AWS::S3::Bucket" not in types
    assert "AWS::Logs::MetricFilter" not in types
    assert not {"TrailName", "TrailBucketName", "TrailLogGroupName"} & set(template["Outputs"])
    assert template["Outputs"]["AuditTableName"]["Value"] == {
        "Ref": logical_id(stack.audit_log.table)
    }


# --- COMPLIANCE mode (construction only, no nag run) ---------------------------------------------
def test_compliance_mode_locks_files_in_compliance_mode() -> None:
    config = make_config(cloudtrail={"object_lock_mode": "COMPLIANCE", "object_lock_days": 2555})
    stack = cdk.Stack(plain_app(), "TrailOnly", env=cdk.Environment(account=ACCOUNT, region=REGION))
    key = PlatformKey(stack, "PlatformKey", config=config).key
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
    )
    security = SecurityTrail(
        stack,
        "Trail",
        config=config,
        platform_key=key,
        alarms=Alarms(stack, "Alarms", config=config, platform_key=key),
        data_event_tables=[table],
    )
    template = Template.from_stack(stack).to_json()

    retention = _props(template, security.bucket)["ObjectLockConfiguration"]["Rule"]
    assert retention == {"DefaultRetention": {"Days": 2555, "Mode": "COMPLIANCE"}}
    # Kept at least as long as each file is locked.
    (rule,) = _props(template, security.bucket)["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] >= 2555
