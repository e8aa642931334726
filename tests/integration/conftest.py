"""moto-backed fixtures: the real table definition, per-tenant KMS keys, key state enforced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.crypto.envelope import EnvelopeCipher
from functions.dal import aws
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.message_store import MessageStore
from functions.dal.schema import create_table_kwargs, tenant_key_alias
from functions.logic.tenants import TenantDirectory, TenantSpec, provision_tenant
from local import kms_key_state
from tests.phi_samples import BUSINESS_NUMBER, OTHER_BUSINESS_NUMBER

TABLE_NAME = "quietline-test"
TENANTS = (
    TenantSpec("harbor", "Harbor Counseling", "(206) 555-0100", 2555, (BUSINESS_NUMBER,)),
    TenantSpec(
        "cedar", "Cedar Therapy", "https://cedar.example/help", 365, (OTHER_BUSINESS_NUMBER,)
    ),
)


@pytest.fixture
def moto_aws() -> Iterator[None]:
    aws.client.cache_clear()
    aws.dynamodb_table.cache_clear()
    with mock_aws():
        yield
    aws.client.cache_clear()
    aws.dynamodb_table.cache_clear()


@pytest.fixture
def kms(moto_aws: None) -> Any:
    """A KMS client whose crypto calls obey key state as real KMS does."""
    client = boto3.client("kms")
    describe = boto3.client("kms")
    kms_key_state.install(
        client.meta.events, lambda key_id: describe.describe_key(KeyId=key_id)["KeyMetadata"]
    )
    return client


@pytest.fixture
def tenant_keys(kms: Any) -> dict[str, str]:
    """One customer-managed key per tenant under alias/quietline/<tenant>; returns key ids."""
    ids = {}
    for spec in TENANTS:
        key_id = kms.create_key(Description="Quietline tenant key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=tenant_key_alias(spec.tenant_id), TargetKeyId=key_id)
        ids[spec.tenant_id] = key_id
    return ids


@pytest.fixture
def table(moto_aws: None) -> Any:
    boto3.client("dynamodb").create_table(**create_table_kwargs(TABLE_NAME))
    return boto3.resource("dynamodb").Table(TABLE_NAME)


@pytest.fixture
def cipher(kms: Any, tenant_keys: dict[str, str]) -> EnvelopeCipher:
    return EnvelopeCipher(KmsDataKeyProvider(kms))


@pytest.fixture
def store(table: Any) -> MessageStore:
    return MessageStore(table)


@pytest.fixture
def directory(store: MessageStore, cipher: EnvelopeCipher) -> TenantDirectory:
    for spec in TENANTS:
        provision_tenant(spec, store, cipher)
    return TenantDirectory(store, cipher)


def record_operations(client: Any) -> list[str]:
    """Every AWS operation `client` makes from now on, in order."""
    calls: list[str] = []

    def record(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", maxsplit=1)[-1])

    client.meta.events.register("before-call", record)
    return calls
