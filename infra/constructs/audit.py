"""Audit controls (164.312(b)): the application's audit table and the account's trail.

- AuditLog: the audit table, built from functions/dal/schema.py (as local mode builds its
  moto table). Its writers may only create items, never change one. Its stream feeds the
  sealer, which links new events into each tenant's hash chain off the request path.
- SecurityTrail: a multi-region CloudTrail trail with log-file validation, KMS-encrypted,
  delivered to an Object-Locked S3 bucket and to CloudWatch Logs, recording management
  events (KMS calls included, each with its tenant encryption context) and DynamoDB data
  events on the message and audit tables, with CIS-style alarms on the trail's logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.dal import schema
from infra.buckets import PRIVATE_BUCKET
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.audit_sealer import AuditSealer
from infra.constructs.network import Network
from infra.constructs.roles import ManagedPolicyRole
from infra.nag import acknowledge
from infra.retention import audit_log_retention
from infra.tables import protected_table, string_attribute

# The only item actions on the audit table: create an event (PutItem with a condition that
# it does not exist) and read events for export. No UpdateItem, DeleteItem or
# BatchWriteItem: no role can rewrite history; expiry is DynamoDB's own TTL.
AUDIT_APPEND_ACTIONS = ("dynamodb:PutItem",)
AUDIT_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
# DynamoDB's use of the table key on the caller's behalf (message_store.py spells the same).
_KEY_APPEND_ACTIONS = ("kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt", "kms:DescribeKey")
_KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")

SECURITY_METRICS_NAMESPACE = "Quietline/Security"


@dataclass(frozen=True)
class SecurityAlarm:
    """A metric filter on the trail's log group and the alarm on its count."""

    metric_name: str
    pattern: str
    description: str
    threshold: int = 1


# CIS AWS Foundations Benchmark (section "Monitoring") metric filters, as CloudWatch Logs
# JSON filter patterns over CloudTrail events.
SECURITY_ALARMS: tuple[SecurityAlarm, ...] = (
    SecurityAlarm(
        "KmsKeyDisabledOrScheduledForDeletion",
        '{ ($.eventSource = "kms.amazonaws.com") && (($.eventName = "DisableKey") || '
        '($.eventName = "ScheduleKeyDeletion")) }',
        "A KMS key was disabled or scheduled for deletion: a tenant's messages become"
        " unreadable (crypto-shredding) unless this was intended; cancel within 30 days",
    ),
    SecurityAlarm(
        "CloudTrailChanged",
        '{ ($.eventSource = "cloudtrail.amazonaws.com") && (($.eventName = "StopLogging") || '
        '($.eventName = "DeleteTrail") || ($.eventName = "UpdateTrail") || '
        '($.eventName = "PutEventSelectors") || ($.eventName = "PutAdvancedEventSelectors")) }',
        "A CloudTrail trail was stopped, deleted or changed: audit logging may have a gap",
    ),
    SecurityAlarm(
        "IamPolicyChanged",
        '{ ($.eventName = "DeleteGroupPolicy") || ($.eventName = "DeleteRolePolicy") || '
        '($.eventName = "DeleteUserPolicy") || ($.eventName = "PutGroupPolicy") || '
        '($.eventName = "PutRolePolicy") || ($.eventName = "PutUserPolicy") || '
        '($.eventName = "CreatePolicy") || ($.eventName = "DeletePolicy") || '
        '($.eventName = "CreatePolicyVersion") || ($.eventName = "DeletePolicyVersion") || '
        '($.eventName = "AttachRolePolicy") || ($.eventName = "DetachRolePolicy") || '
        '($.eventName = "AttachUserPolicy") || ($.eventName = "DetachUserPolicy") || '
        '($.eventName = "AttachGroupPolicy") || ($.eventName = "DetachGroupPolicy") }',
        "An IAM policy was created, changed, attached or detached (expected during a"
        " deploy; otherwise check who changed access)",
    ),
    SecurityAlarm(
        "UnauthorizedApiCalls",
        '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && '
        '($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }',
        "Repeated unauthorized AWS API calls: probing, or a role missing a permission",
        # A single denial is routine (a console page probing what it may show); a run of
        # them in five minutes is worth a look.
        threshold=5,
    ),
    SecurityAlarm(
        "RootAccountUsed",
        '{ ($.userIdentity.type = "Root") && ($.userIdentity.invokedBy NOT EXISTS) && '
        '($.eventType != "AwsServiceEvent") }',
        "The account's root user was used: it should be locked away (break-glass only)",
    ),
    SecurityAlarm(
        "ConsoleSignInWithoutMfa",
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
        '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
        "An IAM user signed in to the AWS console without MFA",
    ),
)


def _key_schema(key_schema: list[dict[str, str]]) -> tuple[str, str]:
    """(partition key, sort key) of a boto3 KeySchema; every audit key is a string."""
    names = {part["KeyType"]: part["AttributeName"] for part in key_schema}
    if set(names) != {"HASH", "RANGE"}:
        raise ValueError("audit keys must be a partition and a sort key")
    return names["HASH"], names["RANGE"]


class AuditLog(Construct):
    """The application audit table (functions/dal/audit_log.py), append-only by IAM, and
    the sealer that chains its events (functions/handlers/audit_sealer.py)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        alarms: Alarms,
        network: Network | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.platform_key = platform_key
        # The deployed definition is the one local mode creates; the name is CDK's.
        definition: dict[str, Any] = schema.create_audit_table_kwargs("unused")
        if definition["BillingMode"] != "PAY_PER_REQUEST":
            raise ValueError("the audit table schema must bill per request")
        partition_key, sort_key = _key_schema(definition["KeySchema"])
        self.table = protected_table(
            self,
            platform_key=platform_key,
            partition_key=partition_key,
            sort_key=sort_key,
            # HIPAA 164.312(a)(2)(iv): the stream carries each new event's image (ids only,
            # never PHI, but audit records). DynamoDB encrypts a stream with its table's
            # key, so it is under the platform key like the table; records live 24 hours
            # and only the sealer's role may read them.
            stream=_stream_view(definition),
        )
        self.index_names: list[str] = []
        for index in definition.get("LocalSecondaryIndexes", []):
            index_partition, index_sort = _key_schema(index["KeySchema"])
            if index_partition != partition_key:
                raise ValueError("a local index shares the table's partition key")
            self.table.add_local_secondary_index(
                index_name=index["IndexName"],
                sort_key=string_attribute(index_sort),
                projection_type=dynamodb.ProjectionType(index["Projection"]["ProjectionType"]),
            )
            self.index_names.append(index["IndexName"])
        self.sealer = AuditSealer(
            self, config=config, alarms=alarms, network=network, audit_log=self
        )

    def grant_append(self, grantee: iam.IGrantable) -> None:
        """Create events only (a system actor's event, e.g. the care pager's flag)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(AUDIT_APPEND_ACTIONS),
            resource_arns=[self.table.table_arn],
        )
        self.grant_table_key(grantee)

    def grant_append_and_read(self, grantee: iam.IGrantable) -> None:
        """Create events and read them (table and its index); nothing else."""
        index_arns = [f"{self.table.table_arn}/index/{name}" for name in self.index_names]
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(AUDIT_APPEND_ACTIONS),
            resource_arns=[self.table.table_arn],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(AUDIT_READ_ACTIONS),
            resource_arns=[self.table.table_arn, *index_arns],
        )
        self.grant_table_key(grantee)

    @property
    def stream_arn(self) -> str:
        arn = self.table.table_stream_arn
        if arn is None:
            raise ValueError("the audit table schema must enable its stream")
        return arn

    def grant_table_key(self, grantee: iam.IGrantable, *, streams: bool = False) -> None:
        # The table key only through DynamoDB (and, for the sealer, its Streams endpoint):
        # a function cannot use it directly.
        region = cdk.Stack.of(self).region
        services = [f"dynamodb.{region}.amazonaws.com"]
        if streams:
            services.append(f"streams.dynamodb.{region}.amazonaws.com")
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=sorted(set(_KEY_APPEND_ACTIONS) | set(_KEY_READ_ACTIONS)),
            resource_arns=[self.platform_key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": services if len(services) > 1 else services[0]}
            },
        )


def _stream_view(definition: dict[str, Any]) -> dynamodb.StreamViewType:
    spec = definition.get("StreamSpecification") or {}
    if not spec.get("StreamEnabled"):
        raise ValueError("the audit table schema must enable its stream (the sealer's source)")
    return dynamodb.StreamViewType(spec["StreamViewType"])


_REPLICATION_REASON = (
    "Cross-region replication is the practice's choice and cost (a second bucket in"
    " another region, its own key, per-GB transfer): the trail's files are already"
    " versioned, Object-Locked and mirrored to CloudWatch Logs, which covers deletion and"
    " tampering; replication would add protection only against losing the whole region."
)


class SecurityTrail(Construct):
    """The account's CloudTrail trail, its buckets, log group and alarms."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        alarms: Alarms,
        data_event_tables: list[dynamodb.ITable],
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.trail_name = f"{config.stack_name}-audit"
        # Built, not read from the trail: the key and bucket policies name the trail, and
        # the trail depends on both.
        self.trail_arn = stack.format_arn(
            service="cloudtrail", resource="trail", resource_name=self.trail_name
        )
        self.key = platform_key
        self._allow_cloudtrail(platform_key, self.trail_arn)
        self.access_log_bucket = self._access_log_bucket(config)
        self.bucket = self._trail_bucket(config)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # CloudWatchLogGroupEncrypted / RetentionPeriod: our key, kept >= six years.
            encryption_key=platform_key,
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        self.logs_role = self._logs_role()
        self.trail = self._trail(data_event_tables)
        self.alarms = self._security_alarms(alarms)
        for bucket in (self.bucket, self.access_log_bucket):
            acknowledge(bucket, "HIPAA.Security-S3BucketReplicationEnabled", _REPLICATION_REASON)

    # --- the trail's use of the platform key ----------------------------------------------
    @staticmethod
    def _allow_cloudtrail(key: kms.IKey, trail_arn: str) -> None:
        """CloudTrail encrypts log files of this trail only (the standard CloudTrail key
        policy: the trail's ARN as aws:SourceArn, this account's trails as context).

        The platform key, not a key of the trail's own: a third key would add $1 a month
        to a practice's idle bill; these two statements admit CloudTrail for this one trail,
        and the log files hold no PHI (docs/key-scheme.md)."""
        stack = cdk.Stack.of(key)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToEncryptLogsOfThisTrail",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceArn": trail_arn},
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"
                        )
                    },
                },
            )
        )
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailToDescribeKey",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["kms:DescribeKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceArn": trail_arn}},
            )
        )

    # --- buckets -----------------------------------------------------------------------------
    def _bucket_retention_days(self, config: QuietlineConfig) -> int:
        # Nothing expires before it is unlocked or before the audit retention ends.
        return max(config.cloudtrail.object_lock_days, config.audit_retention_days)

    def _access_log_bucket(self, config: QuietlineConfig) -> s3.Bucket:
        """Server access logs of the trail bucket: who read or wrote which log file.

        Naming it the trail bucket's server_access_logs_bucket makes CDK add the bucket
        policy for logging.s3.amazonaws.com (aws:SourceArn = the trail bucket,
        aws:SourceAccount = this account) and let that service use the platform key, which
        it only can for objects S3 logging writes into this bucket.
        """
        return s3.Bucket(
            self,
            "AccessLogBucket",
            **PRIVATE_BUCKET,
            # S3DefaultEncryptionKMS: the platform key (S3 logging is granted its use).
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            # No Object Lock: S3 server access logging cannot deliver to a bucket with a
            # default retention. Versioning keeps overwritten or deleted logs.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAfterAuditRetention",
                    expiration=cdk.Duration.days(self._bucket_retention_days(config)),
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _trail_bucket(self, config: QuietlineConfig) -> s3.Bucket:
        settings = config.cloudtrail
        lock_days = cdk.Duration.days(settings.object_lock_days)
        retention = (
            s3.ObjectLockRetention.compliance(lock_days)
            if settings.object_lock_mode == "COMPLIANCE"
            else s3.ObjectLockRetention.governance(lock_days)
        )
        bucket = s3.Bucket(
            self,
            "Bucket",
            # 164.312(c)(1) integrity: every delivered file is write-once for its lock
            # period (mode and days: config.cloudtrail); versioning comes with it.
            **PRIVATE_BUCKET,
            object_lock_enabled=True,
            object_lock_default_retention=retention,
            # Log files are encrypted by CloudTrail with the platform key; anything else
            # written here gets the same key by default.
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_log_bucket,
            server_access_logs_prefix="trail-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireAfterAuditRetention",
                    # Never before a file's Object Lock ends (S3 would refuse anyway).
                    expiration=cdk.Duration.days(self._bucket_retention_days(config)),
                    noncurrent_version_expiration=cdk.Duration.days(settings.object_lock_days),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        # CloudTrail's standard bucket policy, limited to this trail (aws:SourceArn).
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailAclCheck",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:GetBucketAcl"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSCloudTrailWrite",
                principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{cdk.Stack.of(self).account}/*")],
                conditions={
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceArn": self.trail_arn,
                    }
                },
            )
        )
        return bucket

    # --- the trail -----------------------------------------------------------------------
    def _logs_role(self) -> ManagedPolicyRole:
        role = ManagedPolicyRole(
            self,
            "LogsRole",
            assumed_by=iam.ServicePrincipal(
                "cloudtrail.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceArn": self.trail_arn}},
            ),
            description="CloudTrail delivers the Quietline trail to its CloudWatch log group",
        )
        # The group's ARN ends in ":*", covering its streams; the group exists.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        return role

    def _trail(self, data_event_tables: list[dynamodb.ITable]) -> cloudtrail.CfnTrail:
        trail = cloudtrail.CfnTrail(
            self,
            "Trail",
            trail_name=self.trail_name,
            is_logging=True,
            # Every region (an attacker's resources elsewhere too) and IAM/STS/CloudFront.
            is_multi_region_trail=True,
            include_global_service_events=True,
            # 164.312(c)(1): signed hourly digests prove no log file was changed or removed.
            enable_log_file_validation=True,
            kms_key_id=self.key.key_arn,
            s3_bucket_name=self.bucket.bucket_name,
            cloud_watch_logs_log_group_arn=self.log_group.log_group_arn,
            cloud_watch_logs_role_arn=self.logs_role.role_arn,
            advanced_event_selectors=[
                # Management events, read and write, KMS included: every GenerateDataKey
                # and Decrypt of a tenant key is recorded with its tenant context.
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                    name="Management events, including KMS",
                    field_selectors=[
                        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                            field="eventCategory", equal_to=["Management"]
                        )
                    ],
                ),
                # Who read or changed which item of the message and audit tables.
                cloudtrail.CfnTrail.AdvancedEventSelectorProperty(
                    name="DynamoDB data events on the message and audit tables",
                    field_selectors=[
                        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                            field="eventCategory", equal_to=["Data"]
                        ),
                        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                            field="resources.type", equal_to=["AWS::DynamoDB::Table"]
                        ),
                        cloudtrail.CfnTrail.AdvancedFieldSelectorProperty(
                            field="resources.ARN",
                            equal_to=[table.table_arn for table in data_event_tables],
                        ),
                    ],
                ),
            ],
        )
        # CloudTrail checks its bucket, key and role when the trail is created.
        for dependency in (self.bucket, self.key, self.logs_role, self.log_group):
            trail.node.add_dependency(dependency)
        return trail

    # --- alarms on the trail's log group -------------------------------------------------------
    def _security_alarms(self, alarms: Alarms) -> dict[str, cloudwatch.Alarm]:
        created: dict[str, cloudwatch.Alarm] = {}
        for spec in SECURITY_ALARMS:
            metric_filter = logs.MetricFilter(
                self,
                f"{spec.metric_name}Filter",
                log_group=self.log_group,
                filter_pattern=logs.FilterPattern.literal(spec.pattern),
                metric_namespace=SECURITY_METRICS_NAMESPACE,
                metric_name=spec.metric_name,
                metric_value="1",
            )
            alarm = metric_filter.metric(
                statistic=cloudwatch.Stats.SUM, period=cdk.Duration.minutes(5)
            ).create_alarm(
                self,
                f"{spec.metric_name}Alarm",
                alarm_description=spec.description,
                threshold=spec.threshold,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                evaluation_periods=1,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarms.add_alarm_action(alarm)
            created[spec.metric_name] = alarm
        return created
