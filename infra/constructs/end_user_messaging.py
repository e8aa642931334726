"""Carrier "aws" (End User Messaging SMS): the inbound topic and function, delivery
status events, and the sender's SendTextMessage permission.

Inbound texts arrive on an encrypted SNS topic that only sms-voice may publish to, on
behalf of this account's numbers; delivery statuses arrive as EventBridge events.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions

from functions.core.settings import (
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_RETRY_QUEUE_URL,
)
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import sms_voice_arn_pattern
from infra.constructs.pipeline import ASYNC_RETRY_ATTEMPTS, HANDLERS, PipelineParts
from infra.nag import acknowledge

# The event End User Messaging puts on the default bus for every delivery status change.
SMS_VOICE_EVENT_SOURCE = "aws.sms-voice"
DELIVERY_STATUS_DETAIL_TYPE = "Text Message Delivery Status Updated"

_SMS_VOICE_RESOURCE_REASON = (
    "End User Messaging assigns phone-number and pool ids when the practice requests"
    " numbers, outside this stack; the ARN patterns are limited to this account and region"
    " and to origination identities (plus the configured configuration set), the narrowest"
    " form SendTextMessage authorization allows without knowing the ids at deploy time."
)


def inbound_path(parts: PipelineParts) -> tuple[sns.Topic, QuietlineFunction]:
    """The topic End User Messaging publishes inbound texts to, and the function storing them."""
    stack = cdk.Stack.of(parts.scope)
    parts.platform_key.allow_end_user_messaging()
    topic = sns.Topic(
        parts.scope,
        "InboundSmsTopic",
        display_name="Quietline inbound SMS",
        # SNSEncryptedKMS: inbound texts are PHI; the key admits sms-voice only for
        # this account's resources (keys.py).
        master_key=parts.platform_key.key,
        # AwsSolutions-SNS3 / 164.312(e)(1): no plain-HTTP publishing.
        enforce_ssl=True,
    )
    # Only End User Messaging, on behalf of this account's numbers, may publish.
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowEndUserMessagingOfThisAccount",
            principals=[iam.ServicePrincipal("sms-voice.amazonaws.com")],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={
                "StringEquals": {"aws:SourceAccount": stack.account},
                "ArnLike": {"aws:SourceArn": sms_voice_arn_pattern(stack)},
            },
        )
    )
    inbound = parts.function(
        "Inbound",
        HANDLERS["inbound_sns"],
        "Stores inbound texts published by End User Messaging",
        {
            **parts.env_core(),
            ENV_CARRIER: parts.config.carrier,
            ENV_OUTBOUND_QUEUE_URL: parts.queues.outbound.queue.queue_url,
            ENV_RETRY_QUEUE_URL: parts.queues.retry.queue.queue_url,
        },
        timeout=cdk.Duration.seconds(30),
    )
    parts.grant_receiving(inbound, retry_queue=True)
    # Failed invocations: two retries, then the function's DLQ (alarmed; replay with
    # `quietline replay inbound`).
    inbound.function.configure_async_invoke(retry_attempts=ASYNC_RETRY_ATTEMPTS)
    # No public URL: SNS invokes the function, permitted for this topic only.
    topic.add_subscription(subscriptions.LambdaSubscription(inbound.function))
    return topic, inbound


def delivery_events(parts: PipelineParts) -> QuietlineFunction:
    """The function applying delivery status events, and the rule feeding it."""
    fn = parts.function(
        "DeliveryEvents",
        HANDLERS["delivery_events"],
        "Applies End User Messaging delivery status events",
        {**parts.env_core(), ENV_RETRY_QUEUE_URL: parts.queues.retry.queue.queue_url},
    )
    parts.store.grant_read_write_data(fn)
    parts.queues.retry.grant_send(fn)
    parts.on_event(
        "DeliveryStatusRule",
        fn,
        event_pattern=events.EventPattern(
            source=[SMS_VOICE_EVENT_SOURCE], detail_type=[DELIVERY_STATUS_DETAIL_TYPE]
        ),
        description="Quietline: End User Messaging delivery status to the delivery function",
        max_event_age=cdk.Duration.hours(6),
    )
    return fn


def grant_send_text_message(parts: PipelineParts, fn: QuietlineFunction) -> None:
    stack = cdk.Stack.of(parts.scope)
    resources = [
        stack.format_arn(service="sms-voice", resource="phone-number", resource_name="*"),
        stack.format_arn(service="sms-voice", resource="pool", resource_name="*"),
    ]
    if parts.config.sms_configuration_set:
        resources.append(
            stack.format_arn(
                service="sms-voice",
                resource="configuration-set",
                resource_name=parts.config.sms_configuration_set,
            )
        )
    iam.Grant.add_to_principal(
        grantee=fn, actions=["sms-voice:SendTextMessage"], resource_arns=resources
    )
    for arn in resources[:2]:
        acknowledge(
            fn.role.policy,
            f"AwsSolutions-IAM5[Resource::{_nag_arn(stack, arn)}]",
            _SMS_VOICE_RESOURCE_REASON,
        )


def _nag_arn(stack: cdk.Stack, arn: str) -> str:
    """The ARN as cdk-nag prints it in a finding id (literal here: the env is explicit)."""
    resolved = stack.resolve(arn)
    if not isinstance(resolved, str):
        raise ValueError("the stack needs an explicit account and region (see app_factory)")
    return resolved
