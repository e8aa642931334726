"""moto-backed fixtures: the real table definition, per-tenant KMS keys, key state enforced."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from functions.container import Container, Ports
from functions.core.settings import Settings
from functions.crypto.envelope import EnvelopeCipher
from functions.dal.audit_log import stored_event_from_stream
from functions.dal.aws import AwsClients
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.schema import (
    AUDIT_SEALER_FILTER,
    create_audit_table_kwargs,
    create_table_kwargs,
    tenant_key_alias,
)
from functions.dal.store import MessageStore
from functions.handlers import api, staff_notifier
from functions.handlers._entry import EntryPoint, Handler
from functions.logic.audit import AuditEvent
from functions.logic.tenants import TenantDirectory, TenantSpec, provision_tenant
from local import kms_key_state
from local.apigw import LambdaContext
from local.identity import LocalPool
from local.sim_carrier import SimulatedCarrier
from local.streams import StreamPoller
from local.workers import sqs_event
from tests.fakes import RecordingVoiceCarrier
from tests.integration.api_harness import Caller, call, claims_for

# --- h-tests: one staff user pool per session (tests/integration/cognito_pool.py) -------
from tests.integration.cognito_pool import (  # noqa: F401 - fixtures for every test here
    fixture_staff_pool,
    fixture_staff_pool_snapshot,
)
from tests.integration.streams import TableStream
from tests.phi_samples import BUSINESS_NUMBER, OTHER_BUSINESS_NUMBER

TABLE_NAME = "quietline-test"
AUDIT_TABLE_NAME = "quietline-test-audit"
TWILIO_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
TENANTS = (
    TenantSpec("harbor", "Harbor Counseling", "(206) 555-0100", 2555, (BUSINESS_NUMBER,)),
    TenantSpec(
        "cedar", "Cedar Therapy", "https://cedar.example/help", 365, (OTHER_BUSINESS_NUMBER,)
    ),
)


@pytest.fixture
def moto_aws() -> Iterator[AwsClients]:
    """moto for every AWS call, and the clients this test's containers share."""
    with mock_aws():
        yield AwsClients()


@pytest.fixture
def clients(moto_aws: AwsClients) -> AwsClients:
    return moto_aws


@pytest.fixture
def kms(clients: AwsClients) -> Any:
    """The KMS client; every client of `clients` obeys key state as real KMS does."""
    describe = boto3.client("kms")  # outside the hook it feeds
    kms_key_state.install(
        clients.events, lambda key_id: describe.describe_key(KeyId=key_id)["KeyMetadata"]
    )
    return clients.client("kms")


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
def table(clients: AwsClients) -> Any:
    clients.client("dynamodb").create_table(**create_table_kwargs(TABLE_NAME))
    return clients.table(TABLE_NAME)


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

    runtime: Container
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
    stream: TableStream  # the message table's stream, read from its start

    def bound(self, module: Any) -> Handler:
        """`module.handler` as Lambda would run it, on this harness's container."""
        entry: EntryPoint = module.handler
        return entry.bound(self.runtime)

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

    def run_staff_notifier(self) -> dict[str, Any]:
        """What Lambda's stream event source does next: the records written since the last
        run, filtered as the deployed mapping filters them, handed to the staff notifier."""
        event = self.stream.event()
        if not event["Records"]:
            return {"batchItemFailures": []}  # Lambda never invokes with an empty batch
        result: dict[str, Any] = self.bound(staff_notifier)(event, LambdaContext("test"))
        return result

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


VOICEMAIL_BUCKET = "quietline-voicemail"


@pytest.fixture
def messaging(
    clients: AwsClients,
    store: MessageStore,
    cipher: EnvelopeCipher,
    directory: TenantDirectory,
    kms: Any,
    table: Any,
) -> Messaging:
    sqs = clients.client("sqs")
    sns = clients.client("sns")
    outbound_url, outbound_dlq = _queue_with_dlq(sqs, "outbound")
    retry_url, retry_dlq = _queue_with_dlq(sqs, "retry")
    topic_arn = sns.create_topic(Name="staff")["TopicArn"]
    inbox_url = sqs.create_queue(QueueName="staff-inbox")["QueueUrl"]
    clients.client("s3").create_bucket(Bucket=VOICEMAIL_BUCKET)
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=inbox_arn)
    settings = Settings(
        table_name=TABLE_NAME,
        outbound_queue_url=outbound_url,
        retry_queue_url=retry_url,
        staff_topic_arn=topic_arn,
        carrier="simulated",
        public_base_url="https://quietline.example",
        voicemail_bucket=VOICEMAIL_BUCKET,
    )
    carrier = SimulatedCarrier()
    clock = FixedClock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))  # a Monday, 10:00 in New York
    metrics = RecordingMetrics()
    runtime = Container(
        settings,
        clients=clients,
        ports=Ports(
            carrier=carrier,
            clock=clock,
            metrics=metrics,
            twilio_auth_token=TWILIO_AUTH_TOKEN,
            cipher=cipher,
            voice_carrier=RecordingVoiceCarrier(),
        ),
    )
    return Messaging(
        runtime=runtime,
        store=store,
        cipher=cipher,
        directory=directory,
        carrier=carrier,
        clock=clock,
        metrics=metrics,
        sqs=sqs,
        kms=kms,
        table=table,
        outbound_url=outbound_url,
        outbound_dlq_url=outbound_dlq,
        retry_url=retry_url,
        retry_dlq_url=retry_dlq,
        staff_inbox_url=inbox_url,
        stream=TableStream(clients, TABLE_NAME),
    )


class AuditReader:
    """What the API appended to the real (moto) audit table since the last clear(), in the
    order it was appended: read from the table's stream, as the sealer reads it."""

    def __init__(self, clients: AwsClients, table_name: str) -> None:
        self._appended: list[AuditEvent] = []
        self._stream = StreamPoller(
            clients,
            table_name,
            self._collect,
            filter_pattern=AUDIT_SEALER_FILTER,
        )

    def _collect(self, event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            stored = stored_event_from_stream(record)
            if stored is not None:
                self._appended.append(stored.event)

    def clear(self) -> None:
        self._stream.poll()
        self._appended.clear()

    @property
    def events(self) -> list[AuditEvent]:
        self._stream.poll()
        return list(self._appended)


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
    runtime: Container  # the API's

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
def staff_api(messaging: Messaging, staff_pool: LocalPool) -> StaffApi:
    return build_staff_api(messaging, staff_pool)


def build_staff_api(messaging: Messaging, pool: LocalPool, **settings: Any) -> StaffApi:
    """The API on the messaging harness, the pool, the audit table and `settings`."""
    clients = messaging.runtime.clients
    cognito = clients.client("cognito-idp")
    dynamodb = clients.client("dynamodb")
    if AUDIT_TABLE_NAME not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(**create_audit_table_kwargs(AUDIT_TABLE_NAME))
    # The API's container: the messaging harness's, plus the pool and the audit table.
    settings = messaging.runtime.settings.model_copy(
        update={
            "user_pool_id": pool.user_pool_id,
            "audit_table_name": AUDIT_TABLE_NAME,
            **settings,
        }
    )
    runtime = Container(settings, clients=clients, ports=messaging.runtime.ports)
    handler = api.handler.bound(runtime)
    audit = AuditReader(clients, AUDIT_TABLE_NAME)

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
            handler,
        )

    # A second clinician in harbor, to prove clinicians cannot see each other's work.
    second = "clinician2@harbor.quietline.local"
    existing = cognito.list_users(UserPoolId=pool.user_pool_id, Filter=f'email = "{second}"')
    if not existing["Users"]:
        _invite_second_clinician(cognito, pool)
    return StaffApi(
        messaging=messaging,
        admin=caller("admin@harbor.quietline.local", "admin"),
        clinician=caller("clinician@harbor.quietline.local", "clinician"),
        other_clinician=caller("clinician2@harbor.quietline.local", "other-clinician"),
        other_tenant_admin=caller("admin@cedar.quietline.local", "other-tenant-admin"),
        anonymous=Caller("anonymous", None, api=handler),
        audit=audit,
        pool=pool,
        runtime=runtime,
    )


def _invite_second_clinician(cognito: Any, pool: LocalPool) -> None:
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


@pytest.fixture
def deployed(staff_api: StaffApi) -> StaffApi:
    """The staff API plus a stack whose outputs name its moto resources, as `cdk deploy`
    leaves them: what the CLI reads with `--stack Quietline`."""
    outputs = {
        "MessageTableName": TABLE_NAME,
        "AuditTableName": AUDIT_TABLE_NAME,
        "UserPoolId": staff_api.pool.user_pool_id,
        "OutboundQueueUrl": staff_api.messaging.outbound_url,
    }
    template = {
        "Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    staff_api.runtime.clients.client("cloudformation").create_stack(
        StackName="Quietline", TemplateBody=json.dumps(template)
    )
    return staff_api
