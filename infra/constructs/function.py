"""QuietlineFunction: one Lambda handler with its own role, encrypted logs, DLQ and alarm."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.bundling import ARCHITECTURE, RUNTIME, functions_code
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.network import Network
from infra.constructs.roles import ManagedPolicyRole
from infra.nag import acknowledge
from infra.retention import audit_log_retention

# PHI must never reach a log line: Powertools logs no events. Traces are Lambda's own
# (active tracing, below): the functions run no X-Ray SDK, so no payload, response or
# exception text can become trace metadata (docs/architecture.md, "Tracing").
_SAFE_ENVIRONMENT = {
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
}

# Failed async events (message payloads: PHI) are kept 14 days, the SQS maximum, to
# give an operator time to redrive them; they are encrypted like everything else.
_DLQ_RETENTION = cdk.Duration.days(14)

_OUTSIDE_VPC_REASON = (
    "VPC placement is a configurable option (vpc.enabled, off by default) and without it"
    " this function calls only AWS service APIs over TLS with SigV4 IAM authentication,"
    " so no network path other than the authenticated AWS endpoints exists."
)
_XRAY_AND_ENI_REASON = (
    "Resource::* is only for actions that support no resource-level permissions:"
    " xray:PutTraceSegments/PutTelemetryRecords (active tracing) and, with vpc.enabled,"
    " the ec2 network-interface actions Lambda needs to attach the function to the VPC."
)
_SYNCHRONOUS_REASON = (
    "Invoked synchronously only (API Gateway or a Cognito trigger): Lambda sends only"
    " failed asynchronous events to a DLQ, so one would never receive anything. A failure"
    " returns to the caller: a 5xx (the stage's 5xx alarm) or a refused sign-in (the"
    " triggers' errors alarm)."
)
_RUNTIME_REASON = (
    "The runtime is pinned to python3.12 on purpose: the asset's binary wheels"
    " (cryptography) are resolved for cp312, so moving to a newer runtime is a"
    " deliberate change that rebuilds and retests the bundle, not a silent default."
)


@jsii.implements(iam.IGrantable)
class QuietlineFunction(Construct):
    """A Lambda function built the one Quietline way.

    - Code: the shared `functions/` asset; `handler` is e.g.
      "functions.handlers.inbound_sms.handler".
    - Role: its own, with only its log-writing permissions; callers add exact grants
      (`message_store.grant_read_data(fn)`, `tenant_keys.grant_envelope(fn, ...)`).
    - Logs: an explicit log group encrypted with the platform key, kept as long as audit.
    - Async failures: a KMS-encrypted DLQ with an alarm when anything lands in it, except
      for a `synchronous` function (API Gateway's, Cognito's triggers): Lambda sends only
      failed *asynchronous* events to a DLQ, so theirs would stay empty for good while
      its queue, policy and alarm cost three of the stack's 500 resources and an
      alarm's monthly fee. Their callers get the error instead (a 5xx, a refused sign-in).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        alarms: Alarms,
        handler: str,
        description: str,
        environment: Mapping[str, str] | None = None,
        network: Network | None = None,
        reserved_concurrency: int | None = None,
        timeout: cdk.Duration | None = None,
        memory_size: int = 512,
        synchronous: bool = False,
    ) -> None:
        super().__init__(scope, id)
        if config.vpc.enabled != (network is not None):
            # The LambdaInsideVPC acknowledgement below is only true when VPC is off.
            raise ValueError("pass the stack's Network exactly when config.vpc.enabled")
        self.log_group = self._log_group(config, platform_key)
        self.role = self._role(description)
        self.dead_letter_queue: sqs.Queue | None = (
            None if synchronous else self._dead_letter_queue(platform_key, alarms)
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            code=functions_code(),
            handler=handler,
            role=self.role,
            log_group=self.log_group,
            timeout=timeout or cdk.Duration.seconds(15),
            memory_size=memory_size,
            environment=self._environment(id, environment),
            # 164.312(b): every invocation gets an X-Ray segment from Lambda itself (init,
            # invocation, errors; no payloads). Per-AWS-call subsegments need an OTel layer.
            tracing=lambda_.Tracing.ACTIVE,
            # HIPAA.Security-LambdaConcurrency: bounded, so a flood cannot exhaust the
            # account's concurrency. New accounts may need a quota raise (docs).
            reserved_concurrent_executions=(
                config.lambda_reserved_concurrency
                if reserved_concurrency is None
                else reserved_concurrency
            ),
            # HIPAA.Security-LambdaDLQ: failed async invocations are kept, not lost.
            dead_letter_queue=self.dead_letter_queue,
            vpc=network.vpc if network else None,
            vpc_subnets=network.subnets if network else None,
            security_groups=[network.function_security_group] if network else None,
        )
        if self.dead_letter_queue is not None:
            self._grant_platform_key_for_dlq(platform_key)
        else:
            acknowledge(self.function, "HIPAA.Security-LambdaDLQ", _SYNCHRONOUS_REASON)
        if network is not None:
            self._grant_network_interfaces()
        self._acknowledge(network)

    @property
    def dead_letters(self) -> sqs.Queue:
        """The DLQ of a function invoked asynchronously (event sources reuse it)."""
        assert self.dead_letter_queue is not None, "a synchronous function has no DLQ"
        return self.dead_letter_queue

    @property
    def grant_principal(self) -> iam.IPrincipal:
        return self.function.grant_principal

    def _log_group(self, config: QuietlineConfig, platform_key: kms.IKey) -> logs.LogGroup:
        return logs.LogGroup(
            self,
            "Logs",
            # CloudWatchLogGroupEncrypted: encrypted with our key, not the service default.
            encryption_key=platform_key,
            # CloudWatchLogGroupRetentionPeriod / 164.316(b)(2)(i): kept >= six years.
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _role(self, description: str) -> ManagedPolicyRole:
        role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Quietline function: {description}",
        )
        # What AWSLambdaBasicExecutionRole would give, scoped to this function's own log
        # group (its ARN ends in ":*", covering the group's streams); the group exists,
        # so logs:CreateLogGroup is not granted.
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        return role

    def _dead_letter_queue(self, platform_key: kms.IKey, alarms: Alarms) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            "DeadLetters",
            # AwsSolutions-SQS2: the payloads may hold PHI; encrypted with our key.
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=platform_key,
            # AwsSolutions-SQS4 / 164.312(e)(1): requests over plain HTTP are denied.
            enforce_ssl=True,
            retention_period=_DLQ_RETENTION,
        )
        alarm = queue.metric_approximate_number_of_messages_visible(
            period=cdk.Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
        ).create_alarm(
            self,
            "DeadLettersAlarm",
            alarm_description="A failed invocation is waiting in the dead-letter queue",
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarms.add_alarm_action(alarm)
        return queue

    def _grant_platform_key_for_dlq(self, platform_key: kms.IKey) -> None:
        # Lambda sends to the KMS-encrypted DLQ with this role: it needs the data key
        # actions, and only through SQS.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[platform_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"sqs.{cdk.Stack.of(self).region}.amazonaws.com"
                    }
                },
            )
        )

    @staticmethod
    def _environment(service_name: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        clashes = sorted(set(extra or {}) & set(_SAFE_ENVIRONMENT))
        if clashes:
            raise ValueError(f"environment may not override {', '.join(clashes)}")
        return {
            "POWERTOOLS_SERVICE_NAME": service_name,
            **(extra or {}),
            **_SAFE_ENVIRONMENT,
        }

    def _grant_network_interfaces(self) -> None:
        # What AWSLambdaVPCAccessExecutionRole would give, minus its logs actions.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            )
        )

    def _acknowledge(self, network: Network | None) -> None:
        if network is None:
            acknowledge(self.function, "HIPAA.Security-LambdaInsideVPC", _OUTSIDE_VPC_REASON)
        acknowledge(self.role.policy, "AwsSolutions-IAM5[Resource::*]", _XRAY_AND_ENI_REASON)
        acknowledge(self.function, "AwsSolutions-L1", _RUNTIME_REASON)
