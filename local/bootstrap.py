"""Create in moto what the CDK app deploys, from the same definitions, and seed the tenants."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from functions.crypto.envelope import EnvelopeCipher
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.schema import QueueSpec, create_table_kwargs, tenant_key_alias
from functions.dal.store import MessageStore
from functions.logic.tenants import provision_tenant
from infra.config import QuietlineConfig
from local import kms_key_state


def enforce_kms_key_state() -> None:
    """Every client made from the default session from now on obeys KMS key state."""
    boto3.setup_default_session()
    session = boto3.DEFAULT_SESSION
    assert session is not None
    describe = session.client("kms")
    kms_key_state.install(
        session.events, lambda key_id: describe.describe_key(KeyId=key_id)["KeyMetadata"]
    )


def ensure_table(table_name: str, definition: Any = create_table_kwargs) -> None:
    try:
        boto3.client("dynamodb").create_table(**definition(table_name))
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
    kms.enable_key_rotation(KeyId=key_id)
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)
    return key_id


def ensure_queue(spec: QueueSpec) -> tuple[str, str]:
    """The queue and its DLQ with the deployed redrive policy; returns both URLs."""
    sqs = boto3.client("sqs")
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


def ensure_staff_topic() -> str:
    return str(boto3.client("sns").create_topic(Name="quietline-staff-notifications")["TopicArn"])


def bootstrap(config: QuietlineConfig, table_name: str) -> None:
    ensure_table(table_name)
    kms = boto3.client("kms")
    for tenant in config.tenants:
        ensure_tenant_key(kms, tenant.id)
    store = MessageStore(boto3.resource("dynamodb").Table(table_name))
    cipher = EnvelopeCipher(KmsDataKeyProvider(kms))
    for spec in config.tenant_specs():
        provision_tenant(spec, store, cipher)
