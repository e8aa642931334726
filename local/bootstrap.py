"""Create in moto what the CDK app deploys, from the same definitions, and seed the tenants."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from functions.container import Container
from functions.dal.aws import AwsClients
from functions.dal.schema import (
    KEY_ROTATION_DAYS,
    QueueSpec,
    create_table_kwargs,
    tenant_key_alias,
)
from functions.logic.tenants import provision_tenant
from infra.config import QuietlineConfig
from local import kms_key_state


def enforce_kms_key_state(clients: AwsClients) -> None:
    """Every client `clients` builds from now on obeys KMS key state, as real KMS does."""
    describe = AwsClients(clients.target).client("kms")  # outside the hook it feeds
    kms_key_state.install(
        clients.events, lambda key_id: describe.describe_key(KeyId=key_id)["KeyMetadata"]
    )


def ensure_table(
    clients: AwsClients, table_name: str, definition: Any = create_table_kwargs
) -> None:
    try:
        clients.client("dynamodb").create_table(**definition(table_name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise


def ensure_tenant_key(kms: Any, tenant_id: str) -> str:
    """The tenant's key, created with rotation on like the deployed one."""
    alias = tenant_key_alias(tenant_id)
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "NotFoundException":
            raise
    key_id = str(kms.create_key(Description="Quietline tenant key")["KeyMetadata"]["KeyId"])
    kms.enable_key_rotation(KeyId=key_id, RotationPeriodInDays=KEY_ROTATION_DAYS)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_queue(clients: AwsClients, spec: QueueSpec) -> tuple[str, str]:
    """The queue and its DLQ with the deployed redrive policy; returns both URLs."""
    sqs = clients.client("sqs")
    dlq_url = sqs.create_queue(QueueName=f"quietline-{spec.name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receives}
    url = sqs.create_queue(
        QueueName=f"quietline-{spec.name}",
        Attributes={
            "RedrivePolicy": json.dumps(redrive),
            "VisibilityTimeout": str(spec.visibility_seconds),
        },
    )["QueueUrl"]
    return str(url), str(dlq_url)


def ensure_staff_topic(clients: AwsClients) -> str:
    sns = clients.client("sns")
    return str(sns.create_topic(Name="quietline-staff-notifications")["TopicArn"])


def ensure_voicemail_bucket(clients: AwsClients, bucket: str) -> None:
    """The bucket sealed voicemails go to (already envelope-encrypted; SSE-KMS on top)."""
    s3 = clients.client("s3")
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def bootstrap(config: QuietlineConfig, runtime: Container) -> None:
    """The message table, a key per tenant, and each configured tenant provisioned."""
    ensure_table(runtime.clients, runtime.settings.need("table_name"))
    ensure_voicemail_bucket(runtime.clients, runtime.settings.need("voicemail_bucket"))
    kms = runtime.clients.client("kms")
    for tenant in config.tenants:
        ensure_tenant_key(kms, tenant.id)
    for spec in config.tenant_specs():
        provision_tenant(spec, runtime.store(), runtime.cipher())
