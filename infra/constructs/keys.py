"""Customer-managed KMS keys: one envelope key per tenant, one platform key for the rest.

Tenant keys only wrap the data keys that encrypt PHI fields (AES-256-GCM in the Lambda
code); scheduling a tenant key's deletion destroys that tenant's messages
(crypto-shredding). The platform key encrypts the table, logs, queues, topics and
backups at rest, so AWS services never need a tenant key.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from functions.dal.schema import tenant_key_alias
from infra.config import QuietlineConfig

# The encryption-context key naming the tenant. The Lambda key provider must put exactly
# this key (value: the tenant id) in every GenerateDataKey / Decrypt call.
TENANT_CONTEXT_KEY = "tenant_id"
TENANT_CONTEXT_CONDITION = f"kms:EncryptionContext:{TENANT_CONTEXT_KEY}"

# Data-plane actions a tenant key refuses unless the context names its tenant.
_DATA_PLANE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*")

# 164.312(a)(2)(iv): a key scheduled for deletion stays recoverable for the longest window
# KMS allows, so a mistaken crypto-shred can still be cancelled.
_PENDING_WINDOW = cdk.Duration.days(30)


def grant_secret_value(grantee: iam.IGrantable, secret_arn: str, key: kms.IKey) -> None:
    """GetSecretValue on exactly one secret, and its key's Decrypt only through Secrets
    Manager (the function cannot decrypt anything else of the key's with it)."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["secretsmanager:GetSecretValue"], resource_arns=[secret_arn]
    )
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["kms:Decrypt"],
        resource_arns=[key.key_arn],
        conditions={
            "StringEquals": {
                "kms:ViaService": f"secretsmanager.{cdk.Stack.of(key).region}.amazonaws.com"
            }
        },
    )


def allow_service_of_this_account(
    key: kms.IKey, *, sid: str, service: str, actions: list[str], source_arn: str
) -> None:
    """Let an AWS service use `key` only on behalf of this account's own resources.

    Both conditions guard against the confused deputy: aws:SourceAccount pins the
    account, aws:SourceArn (a pattern) the service resources that may trigger the use.
    """
    stack = cdk.Stack.of(key)
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=sid,
            principals=[iam.ServicePrincipal(service)],
            actions=actions,
            resources=["*"],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": source_arn},
            },
        )
    )


def _customer_managed_key(
    scope: Construct, id: str, *, alias: str, description: str, rotation_days: int
) -> kms.Key:
    return kms.Key(
        scope,
        id,
        alias=alias,
        description=description,
        # Automatic rotation of the key material (AwsSolutions-KMS5 asks only that it is on);
        # old versions stay available to decrypt what they wrapped. The period is
        # `key_rotation_days` (default 2,560, the longest KMS allows): the keys only wrap
        # one-use data keys, and each of the first two rotations adds $1 a month per key
        # (docs/key-scheme.md, "Rotation").
        enable_key_rotation=True,
        rotation_period=cdk.Duration.days(rotation_days),
        # The keys are the only way to read retained data: never deleted with the stack.
        removal_policy=cdk.RemovalPolicy.RETAIN,
        pending_window=_PENDING_WINDOW,
        # Default key policy: the account root may manage the key and delegates use to
        # IAM, so admins can schedule deletion (crypto-shredding) and roles get exact grants.
    )


class TenantKeys(Construct):
    """One customer-managed key per tenant, usable only with that tenant's context."""

    def __init__(self, scope: Construct, id: str, *, config: QuietlineConfig) -> None:
        super().__init__(scope, id)
        self._rotation_days = config.key_rotation_days
        self._keys: dict[str, kms.Key] = {
            tenant.id: self._tenant_key(tenant.id) for tenant in config.tenants
        }

    @property
    def keys(self) -> Mapping[str, kms.Key]:
        return dict(self._keys)

    def key(self, tenant_id: str) -> kms.Key:
        return self._keys[tenant_id]

    def grant_envelope(
        self, grantee: iam.IGrantable, tenant_id: str, *, decrypt: bool, generate: bool
    ) -> iam.Grant:
        """Grant only the envelope actions a path needs, only under this tenant's context.

        `generate`: kms:GenerateDataKey (new data key to encrypt a message).
        `decrypt`: kms:Decrypt (unwrap a stored data key to read a message).
        Every call stays in CloudTrail with the caller's role and the tenant context
        (164.312(b) audit controls).
        """
        actions = [
            action
            for action, wanted in (("kms:GenerateDataKey", generate), ("kms:Decrypt", decrypt))
            if wanted
        ]
        if not actions:
            raise ValueError("grant_envelope needs decrypt=True or generate=True")
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=actions,
            resource_arns=[self.key(tenant_id).key_arn],
            conditions={"StringEquals": {TENANT_CONTEXT_CONDITION: tenant_id}},
        )

    def _tenant_key(self, tenant_id: str) -> kms.Key:
        key = _customer_managed_key(
            self,
            tenant_id,
            alias=tenant_key_alias(tenant_id),
            # Tenant ids are configuration slugs, not PHI.
            description=f"Quietline envelope key of tenant {tenant_id}",
            rotation_days=self._rotation_days,
        )
        # 164.312(a)(1) access control: even a role granted this key (or an admin with
        # kms:*) cannot use it for data unless the request names this tenant, so one
        # tenant's key can never wrap or unwrap another tenant's data.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyDataUseOutsideThisTenant",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(_DATA_PLANE_ACTIONS),
                resources=["*"],
                conditions={"StringNotEquals": {TENANT_CONTEXT_CONDITION: tenant_id}},
            )
        )
        return key


class PlatformKey(Construct):
    """The key for AWS services' encryption at rest: table, logs, SQS, SNS (the inbound
    SMS topic included), backups and the CloudTrail trail's files."""

    def __init__(self, scope: Construct, id: str, *, config: QuietlineConfig) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.key = _customer_managed_key(
            self,
            "Key",
            alias=f"alias/quietline-platform/{config.stack_name}",
            description=(
                f"Quietline {config.stack_name}: table, logs, queues, topics, backups, trail"
            ),
            rotation_days=config.key_rotation_days,
        )
        # CloudWatch Logs encrypts log groups with this key (CloudWatchLogGroupEncrypted);
        # the service may use it only for log groups of this account and region.
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )

    def allow_end_user_messaging(self) -> None:
        """End User Messaging encrypts what it publishes to the inbound SMS topic, which
        this key encrypts; only on behalf of this account's numbers and pools here.

        The key then admits one more AWS service, for this account's sms-voice resources
        only; a separate topic key would cost $1 a month more (docs/key-scheme.md)."""
        allow_service_of_this_account(
            self.key,
            sid="AllowEndUserMessagingOfThisAccount",
            service="sms-voice.amazonaws.com",
            actions=["kms:GenerateDataKey*", "kms:Decrypt"],
            source_arn=sms_voice_arn_pattern(cdk.Stack.of(self)),
        )

    def allow_event_rule_dead_letters(self) -> None:
        """EventBridge may write to the function DLQs (encrypted with this key) that
        catch events a rule of this account could not deliver."""
        stack = cdk.Stack.of(self)
        allow_service_of_this_account(
            self.key,
            sid="AllowEventBridgeRuleDeadLettersOfThisAccount",
            service="events.amazonaws.com",
            actions=["kms:GenerateDataKey", "kms:Decrypt"],
            source_arn=stack.format_arn(service="events", resource="rule", resource_name="*"),
        )


def sms_voice_arn_pattern(stack: cdk.Stack) -> str:
    """arn:<partition>:sms-voice:<region>:<account>:* — any End User Messaging resource of
    this account and region (phone numbers, pools, configuration sets)."""
    return stack.format_arn(
        service="sms-voice", resource="*", arn_format=cdk.ArnFormat.NO_RESOURCE_NAME
    )
