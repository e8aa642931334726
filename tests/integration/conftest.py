"""moto-backed fixtures: the real table definition, per-tenant KMS keys, key state enforced."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions import wiring
from functions.core.settings import (
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_RETRY_QUEUE_URL,
    ENV_STAFF_TOPIC_ARN,
    ENV_TABLE_NAME,
    ENV_USER_POOL_ID,
    api_settings,
    audit_settings,
    core_settings,
    messaging_settings,
    retry_queue_url,
)
from functions.crypto.envelope import EnvelopeCipher
from functions.dal import aws
from functions.dal.audit_log import DynamoDbAuditLog
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.message_store import MessageStore
from functions.dal.notifier import SnsStaffNotifier
from functions.dal.queue import SqsQueue
from functions.dal.schema import create_audit_table_kwargs, create_table_kwargs, tenant_key_alias
from functions.logic.audit import AuditEvent
from functions.logic.tenants import TenantDirectory, TenantSpec, provision_tenant
from local import kms_key_state
from local.identity import LocalPool
from local.sim_carrier import SimulatedCarrier
from local.workers import sqs_event
from tests.integration.api_harness import Caller, call, claims_for

# --- h-tests: one staff user pool per session (tests/integration/cognito_pool.py) -------
from tests.integration.cognito_pool import (  # noqa: F401 - fixtures for every test here
    fixture_staff_pool,
    fixture_staff_pool_snapshot,
)
from tests.phi_samples import BUSINESS_NUMBER, OTHER_BUSINESS_NUMBER

TABLE_NAME = "quietline-test"
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
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


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class RecordingMetrics:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value


@dataclass
class Messaging:
    """Everything the messaging flows run on, wired as in a deployment (moto for AWS)."""

    store: MessageStore
    cipher: EnvelopeCipher
    directory: TenantDirectory
    carrier: SimulatedCarrier
    clock: FixedClock
    metrics: RecordingMetrics
    sqs: Any
    kms: Any
    table: Any
    outbound_url: str
    outbound_dlq_url: str
    retry_url: str
    retry_dlq_url: str
    staff_inbox_url: str

    def receive(self, queue_url: str, *, max_messages: int = 10) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            VisibilityTimeout=0,
        )
        return list(response.get("Messages", []))

    def sqs_event(self, queue_url: str) -> dict[str, Any]:
        """What Lambda's SQS event source would hand the consumer for this queue now."""
        queue_arn = "arn:aws:sqs:us-east-1:123456789012:" + queue_url.rsplit("/", 1)[-1]
        return sqs_event(self.receive(queue_url), queue_arn)

    def delete_all(self, queue_url: str, event: dict[str, Any], failed_ids: set[str]) -> None:
        """Lambda deletes the records it did not report as failed; for the failed ones we let
        their backoff pass at once (VisibilityTimeout 0), so the next receive sees them."""
        for record in event["Records"]:
            if record["messageId"] not in failed_ids:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"])
            else:
                self.sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=record["receiptHandle"], VisibilityTimeout=0
                )

    def staff_notifications(self) -> list[str]:
        return [json.loads(m["Body"])["Message"] for m in self.receive(self.staff_inbox_url)]


def _queue_with_dlq(sqs: Any, name: str, max_receives: int = 3) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}
            )
        },
    )["QueueUrl"]
    return url, dlq_url


@pytest.fixture
def messaging(
    store: MessageStore, cipher: EnvelopeCipher, directory: TenantDirectory, kms: Any, table: Any
) -> Iterator[Messaging]:
    sqs = boto3.client("sqs")
    sns = boto3.client("sns")
    outbound_url, outbound_dlq = _queue_with_dlq(sqs, "outbound")
    retry_url, retry_dlq = _queue_with_dlq(sqs, "retry")
    topic_arn = sns.create_topic(Name="staff")["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="staff-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    env = {
        ENV_TABLE_NAME: TABLE_NAME,
        ENV_OUTBOUND_QUEUE_URL: outbound_url,
        ENV_RETRY_QUEUE_URL: retry_url,
        ENV_STAFF_TOPIC_ARN: topic_arn,
        ENV_CARRIER: "simulated",
        ENV_PUBLIC_BASE_URL: "https://quietline.example",
    }
    previous = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    core_settings.cache_clear()
    messaging_settings.cache_clear()
    retry_queue_url.cache_clear()
    harness = Messaging(
        store=store,
        cipher=cipher,
        directory=directory,
        carrier=SimulatedCarrier(),
        clock=FixedClock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)),  # a Monday, 10:00 in New York
        metrics=RecordingMetrics(),
        sqs=sqs,
        kms=kms,
        table=table,
        outbound_url=outbound_url,
        outbound_dlq_url=outbound_dlq,
        retry_url=retry_url,
        retry_dlq_url=retry_dlq,
        staff_inbox_url=inbox_url,
    )
    wiring.override(
        store=store,
        cipher=cipher,
        carrier=harness.carrier,
        clock=harness.clock,
        metrics=harness.metrics,
        outbound_queue=SqsQueue(outbound_url, sqs),
        retry_queue=SqsQueue(retry_url, sqs),
        notifier=SnsStaffNotifier(topic_arn, sns),
        twilio_auth_token=TWILIO_AUTH_TOKEN,
    )
    # The directory must share the overridden store and cipher (and their faults).
    wiring.directory.cache_clear()
    yield harness
    wiring._overrides.clear()
    wiring.reset()
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    core_settings.cache_clear()
    messaging_settings.cache_clear()
    retry_queue_url.cache_clear()


class AuditReader:
    """Reads what the API appended to the real (moto) audit table, since the last clear()."""

    TENANTS = ("harbor", "cedar", "unknown")

    def __init__(self, log: DynamoDbAuditLog) -> None:
        self.log = log
        self._marks: dict[str, int] = {}

    def clear(self) -> None:
        self._marks = {t: sum(1 for _ in self.log.chain(t)) for t in self.TENANTS}

    @property
    def events(self) -> list[AuditEvent]:
        found = [
            link
            for t in self.TENANTS
            for link in self.log.chain(t)
            if link.seq > self._marks.get(t, 0)
        ]
        return [link.event for link in sorted(found, key=lambda link: (link.event.at, link.seq))]


@dataclass
class StaffApi:
    """The staff API on moto: two tenants, their staff in a moto user pool, audit captured."""

    messaging: Messaging
    admin: Caller
    clinician: Caller
    other_clinician: Caller
    other_tenant_admin: Caller
    anonymous: Caller
    audit: AuditReader
    pool: Any

    def contact(self, caller: Caller, phone: str, *, mode: str = "plain_sms") -> str:
        response = call(
            caller,
            "POST",
            "/contacts",
            body={
                "phone_number": phone,
                "display_name": "Jamie",
                "consent": {"mode": mode, "wording_version": "v1"},
            },
        )
        assert response.status == 201, response.text
        return str(response.json["contact_id"])


@pytest.fixture
def staff_api(messaging: Messaging, staff_pool: LocalPool) -> Iterator[StaffApi]:
    pool = staff_pool
    os.environ[ENV_USER_POOL_ID] = pool.user_pool_id
    boto3.client("dynamodb").create_table(**create_audit_table_kwargs("quietline-test-audit"))
    os.environ[ENV_AUDIT_TABLE_NAME] = "quietline-test-audit"
    api_settings.cache_clear()
    audit_settings.cache_clear()
    wiring.reset()
    audit = AuditReader(wiring.audit_log())
    cognito = boto3.client("cognito-idp")

    def caller(email: str, name: str) -> Caller:
        user = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=email)
        attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        auth_time = int(messaging.clock.now().timestamp())
        return Caller(
            name,
            claims_for(
                attributes["sub"],
                attributes["custom:tenant_id"],
                attributes["custom:role"],
                auth_time=auth_time,
                session=f"session-{name}",
            ),
            attributes["sub"],
            attributes["custom:tenant_id"],
        )

    # A second clinician in harbor, to prove clinicians cannot see each other's work.
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username="clinician2@harbor.quietline.local",
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": "clinician2@harbor.quietline.local"},
            {"Name": "custom:tenant_id", "Value": "harbor"},
            {"Name": "custom:role", "Value": "clinician"},
        ],
    )
    yield StaffApi(
        messaging=messaging,
        admin=caller("admin@harbor.quietline.local", "admin"),
        clinician=caller("clinician@harbor.quietline.local", "clinician"),
        other_clinician=caller("clinician2@harbor.quietline.local", "other-clinician"),
        other_tenant_admin=caller("admin@cedar.quietline.local", "other-tenant-admin"),
        anonymous=Caller("anonymous", None),
        audit=audit,
        pool=pool,
    )
    os.environ.pop(ENV_USER_POOL_ID, None)
    os.environ.pop(ENV_AUDIT_TABLE_NAME, None)
    api_settings.cache_clear()
    audit_settings.cache_clear()
