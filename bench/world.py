"""An in-process deployment on moto for the round-trip and capacity runs.

Wired as a Lambda instance is: one container per instance with its own boto3 clients
(functions/dal/aws.py: same client configuration, same connection pool), the same
settings, and the handlers are called with the events AWS would send. Only
three ports are replaced (as the test suite's `messaging` fixture does): the carrier (the
simulated one, its API round trip modeled by the recorder), metrics (recorded, not
printed) and the Twilio auth token (no Secrets Manager read per run). The recorder is
attached to every client the functions use.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from contextlib import AbstractContextManager
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import boto3
from moto import mock_aws

from bench.aws_calls import CallRecorder
from bench.capacity import CapacityProbe, item_size
from functions.carriers.models import OutboundSms, SendResult
from functions.carriers.twilio import SIGNATURE_HEADER, SMS_WEBHOOK_PATH, compute_signature
from functions.container import Container, Ports
from functions.core.models import MessageRef
from functions.core.settings import Settings
from functions.crypto.envelope import EnvelopeCipher
from functions.dal.aws import AwsClients
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.schema import (
    OUTBOUND_QUEUE,
    RETRY_QUEUE,
    create_audit_table_kwargs,
    create_table_kwargs,
    tenant_key_alias,
)
from functions.dal.store import MessageStore
from functions.handlers import (
    api,
    delivery_events,
    inbound_sns,
    sender,
    sweeper,
    twilio_webhook,
)
from functions.handlers._entry import EntryPoint, Handler
from functions.logic.tenants import TenantSpec, provision_tenant
from local import moto_dynamodb
from local.apigw import LambdaContext, Route, build_event, build_sns_event
from local.sim_carrier import SimulatedCarrier
from local.workers import sqs_event

TABLE_NAME = "quietline-bench"
AUDIT_TABLE_NAME = "quietline-bench-audit"
TENANT = TenantSpec("harbor", "Harbor Counseling", "(206) 555-0100", 2555, ("+12065550100",))
BUSINESS_NUMBER = TENANT.business_numbers[0]
PUBLIC_BASE_URL = "https://quietline.example"
TWILIO_AUTH_TOKEN = "bench-auth-token-0123456789abcdef"  # noqa: S105 - a fake, for moto
INBOUND_TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:quietline-inbound-sms"
ADMIN_ID = "bench-admin"


def fake_number(index: int, area_code: str = "206") -> str:
    """+1 <area> 555-01xx: the range reserved for fiction, so never a real client."""
    if not 0 <= index <= 99:
        raise ValueError("the 555-01xx range holds 100 numbers per area code")
    return f"+1{area_code}55501{index:02d}"


class RecordingMetrics:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] += value


class ModeledCarrier(SimulatedCarrier):
    """The simulated carrier plus the round trip End User Messaging's SendTextMessage
    would cost (moto has no pinpoint-sms-voice-v2), delayed and counted like AWS calls."""

    def __init__(self, recorder: CallRecorder) -> None:
        super().__init__()
        self._recorder = recorder

    def send(self, sms: OutboundSms) -> SendResult:
        self._recorder.modeled_call("pinpoint-sms-voice-v2", "SendTextMessage")
        return super().send(sms)


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: Any


def _queue(sqs: Any, name: str) -> str:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    return str(sqs.create_queue(QueueName=name, Attributes={"RedrivePolicy": redrive})["QueueUrl"])


class World(AbstractContextManager["World"]):
    """`with World() as world:` — moto started, resources created, the tenant seeded."""

    def __init__(self) -> None:
        self.recorder = CallRecorder()
        self.metrics = RecordingMetrics()
        self.carrier = ModeledCarrier(self.recorder)
        self._mock = mock_aws()
        self.runtime: Container | None = None

    # --- lifecycle --------------------------------------------------------------------
    def __enter__(self) -> World:
        moto_dynamodb.install()  # parallel reads and writes, atomic as in DynamoDB
        self._mock.start()
        admin = boto3.session.Session(region_name="us-east-1")
        dynamodb = admin.client("dynamodb")
        dynamodb.create_table(**create_table_kwargs(TABLE_NAME))
        dynamodb.create_table(**create_audit_table_kwargs(AUDIT_TABLE_NAME))
        kms = admin.client("kms")
        key_id = kms.create_key(Description="bench tenant key")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=tenant_key_alias(TENANT.tenant_id), TargetKeyId=key_id)
        sqs = admin.client("sqs")
        self.outbound_url = _queue(sqs, f"quietline-{OUTBOUND_QUEUE.name}")
        self.retry_url = _queue(sqs, f"quietline-{RETRY_QUEUE.name}")
        self.topic_arn = admin.client("sns").create_topic(Name="quietline-staff")["TopicArn"]
        self.admin_sqs = sqs
        self.admin_dynamodb = dynamodb
        self.settings = Settings(
            table_name=TABLE_NAME,
            audit_table_name=AUDIT_TABLE_NAME,
            outbound_queue_url=self.outbound_url,
            retry_queue_url=self.retry_url,
            staff_topic_arn=self.topic_arn,
            carrier="simulated",
            public_base_url=PUBLIC_BASE_URL,
            user_pool_id="us-east-1_bench",
        )
        self.clients = AwsClients()
        self.ports = Ports(
            carrier=self.carrier, metrics=self.metrics, twilio_auth_token=TWILIO_AUTH_TOKEN
        )
        self.runtime = Container(self.settings, clients=self.clients, ports=self.ports)
        provision_tenant(
            TENANT,
            MessageStore(admin.resource("dynamodb").Table(TABLE_NAME)),
            EnvelopeCipher(KmsDataKeyProvider(kms)),
        )
        # The clients the functions will use (one set per instance, as in Lambda), recorded.
        for client in (
            self.clients.client("kms"),
            self.clients.client("sqs"),
            self.clients.client("sns"),
            self.clients.table(TABLE_NAME).meta.client,
            self.clients.table(AUDIT_TABLE_NAME).meta.client,
        ):
            self.recorder.attach(client)
        self.probe = CapacityProbe(dynamodb, [TABLE_NAME, AUDIT_TABLE_NAME])
        self.recorder.before_write = self.probe.before
        self.recorder.after_write = self.probe.after
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.recorder.active = False
        self._mock.stop()

    def cold_instance(self) -> None:
        """Forget what a warm Lambda instance caches (tenant by number, unwrapped index key)."""
        self.runtime = Container(self.settings, clients=self.clients, ports=self.ports)

    def instance(self) -> Container:
        assert self.runtime is not None, "use the world inside `with`"
        return self.runtime

    def handler(self, module: Any) -> Handler:
        """`module.handler` as this instance runs it."""
        assert self.runtime is not None, "use the world inside `with`"
        entry: EntryPoint = module.handler
        return entry.bound(self.runtime)

    # --- the events AWS would deliver -------------------------------------------------
    def sns_inbound(self, from_number: str, body: str) -> dict[str, Any]:

        message = {
            "originationNumber": from_number,
            "destinationNumber": BUSINESS_NUMBER,
            "messageKeyword": "KEYWORD_123456789012",
            "messageBody": body,
            "inboundMessageId": str(uuid.uuid4()),
        }
        event = build_sns_event(json.dumps(message), INBOUND_TOPIC_ARN)
        result: dict[str, Any] = self.handler(inbound_sns)(event, LambdaContext("inbound"))
        return result

    def twilio_inbound(self, from_number: str, body: str, sid: str | None = None) -> int:

        sid = sid or f"SM{uuid.uuid4().hex}"
        form = {
            "AccountSid": "AC" + "0" * 32,
            "From": from_number,
            "To": BUSINESS_NUMBER,
            "Body": body,
            "MessageSid": sid,
            "SmsSid": sid,
            "NumMedia": "0",
        }
        signature = compute_signature(TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + SMS_WEBHOOK_PATH, form)
        event = build_event(
            route=Route("POST", SMS_WEBHOOK_PATH, "functions.handlers.twilio_webhook.handler"),
            path_parameters={},
            method="POST",
            raw_path=SMS_WEBHOOK_PATH,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                SIGNATURE_HEADER: signature,
            },
            body=urlencode(form).encode(),
            source_ip="203.0.113.9",
            host="quietline.example",
        )
        result = self.handler(twilio_webhook)(event, LambdaContext("twilio-webhook"))
        return int(result["statusCode"])

    def api(
        self,
        method: str,
        template: str,
        *,
        params: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body: Any = None,
    ) -> ApiResult:
        """A staff API request as API Gateway passes it on after its Cognito authorizer."""

        path = template
        for name, value in (params or {}).items():
            path = path.replace("{" + name + "}", value)
        raw_path = path + (f"?{urlencode(query)}" if query else "")
        event = build_event(
            route=Route(method, template, "functions.handlers.api.handler", authorized=True),
            path_parameters=params or {},
            method=method,
            raw_path=raw_path,
            headers={"Content-Type": "application/json"},
            body=json.dumps(body).encode() if body is not None else b"",
            source_ip="198.51.100.7",
            host="api.quietline.example",
        )
        event["requestContext"]["authorizer"] = {
            "claims": {
                "sub": ADMIN_ID,
                "token_use": "id",
                "custom:tenant_id": TENANT.tenant_id,
                "custom:role": "admin",
                "auth_time": str(int(self.instance().clock().now().timestamp()) - 60),
                "origin_jti": "bench-session",
            }
        }
        result = self.handler(api)(event, LambdaContext("api"))
        text = result.get("body") or ""
        return ApiResult(int(result["statusCode"]), json.loads(text) if text else None)

    def outbound_event(self) -> dict[str, Any]:
        """What the SQS event source hands the sender next (received outside any measure)."""
        messages = self.admin_sqs.receive_message(
            QueueUrl=self.outbound_url, MaxNumberOfMessages=1, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            raise RuntimeError("the outbound queue is empty")
        arn = "arn:aws:sqs:us-east-1:123456789012:" + self.outbound_url.rsplit("/", 1)[-1]
        return sqs_event(messages, arn)

    def finish_batch(self, event: dict[str, Any]) -> None:
        """The event source deletes what the consumer did not report as failed."""
        for record in event["Records"]:
            self.admin_sqs.delete_message(
                QueueUrl=self.outbound_url, ReceiptHandle=record["receiptHandle"]
            )

    def send(self, event: dict[str, Any]) -> dict[str, Any]:

        result: dict[str, Any] = self.handler(sender)(event, LambdaContext("sender"))
        return result

    def delivered(self, ref: MessageRef, carrier_message_id: str) -> dict[str, Any]:
        """End User Messaging's final delivery event, as EventBridge delivers it."""

        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Text Message Delivery Status Updated",
            "source": "aws.sms-voice",
            "account": "123456789012",
            "time": "2026-11-28T10:16:02Z",
            "region": "us-east-1",
            "resources": [],
            "detail": {
                "eventType": "TEXT_DELIVERED",
                "eventVersion": "1.0",
                "eventTimestamp": int(self.instance().clock().now().timestamp() * 1000),
                "isFinal": True,
                "messageId": carrier_message_id,
                "context": {"quietline_message_id": ref.token(), "tenant_id": ref.tenant_id},
            },
        }
        result: dict[str, Any] = self.handler(delivery_events)(event, LambdaContext("delivery"))
        return result

    def sweep(self) -> dict[str, Any]:
        """The scheduled sweeper, as EventBridge invokes it every five minutes."""
        result: dict[str, Any] = self.handler(sweeper)({}, LambdaContext("sweeper"))
        return result

    def stored_bytes_per_message(self) -> dict[str, float]:
        """Average stored size of a message: its item plus its carrier-id item."""
        paginator = self.admin_dynamodb.get_paginator("scan")
        messages = carrier_items = 0
        total = 0
        for page in paginator.paginate(TableName=TABLE_NAME):
            for item in page["Items"]:
                pk = item["pk"]["S"]
                if pk.startswith("CONV#") and item["sk"]["S"].startswith("MSG#"):
                    messages += 1
                elif pk.startswith("CARRIER#"):
                    carrier_items += 1
                else:
                    continue
                total += item_size(item)
        return {
            "messages": messages,
            "carrier_items": carrier_items,
            "bytes_per_message": round(total / max(messages, 1), 1),
        }

    def stored_inbound_count(self) -> int:
        paginator = self.admin_dynamodb.get_paginator("scan")
        total = 0
        for page in paginator.paginate(
            TableName=TABLE_NAME,
            FilterExpression="direction = :d",
            ExpressionAttributeValues={":d": {"S": "inbound"}},
            Select="COUNT",
        ):
            total += int(page["Count"])
        return total
