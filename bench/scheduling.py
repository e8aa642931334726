"""Scheduled messages and reminders: the AWS calls each reminder makes, and an idle sweep's.

Runs in-process on moto (no network): a tenant, a key, the table and the outbound queue as
deployed; `REMINDERS` appointments booked with one reminder each, swept when due, and the
sender run on what the sweep queued. Every AWS call is counted by a botocore hook (with
the items a transaction or batch carries), and priced with bench/prices.json: the cost
per 1,000 reminders, the idle cost the one-minute sweep adds, and the same two figures for
the alternative not chosen (an EventBridge Scheduler one-time schedule per message).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")
REMINDERS = 40
SWEEP_RUNS_PER_MONTH = 730 * 60  # rate(1 minute)
SWEEP_MEMORY_MB = 512  # QuietlineFunction's default (infra/constructs/function.py)
# Transactions bill two write units per item; strongly consistent reads one per 4 KB item.
TRANSACTION_UNITS_PER_ITEM = 2
# infra/constructs/scheduler.py's SCHEDULER_ALARMS and the function's DLQ alarm.
ALARM_METRICS = 3


@dataclass
class Calls:
    by_operation: Counter[str] = field(default_factory=Counter)
    write_units: float = 0.0
    read_units: float = 0.0

    def record(self, event_name: str, params: dict[str, Any]) -> None:
        service, operation = event_name.split(".")[-2:]
        self.by_operation[f"{service}:{operation}"] += 1
        if operation == "TransactWriteItems":
            self.write_units += TRANSACTION_UNITS_PER_ITEM * len(params.get("TransactItems", []))
        elif operation in {"PutItem", "UpdateItem", "DeleteItem"}:
            self.write_units += 1
        elif operation in {"GetItem", "Query"}:
            self.read_units += 1
        elif operation == "BatchGetItem":
            self.read_units += sum(len(v["Keys"]) for v in params["RequestItems"].values())

    def count(self, service: str) -> int:
        return sum(n for k, n in self.by_operation.items() if k.startswith(service + ":"))

    def reset(self) -> None:
        self.by_operation.clear()
        self.write_units = self.read_units = 0.0


def _prices() -> dict[str, float]:
    data = json.loads(PRICES_FILE.read_text(encoding="utf-8"))["prices"]
    return {k: float(v["usd"]) for k, v in data.items()}


def _usd(calls: Calls, prices: dict[str, float], *, lambda_runs: int, lambda_ms: float) -> float:
    gb_s = SWEEP_MEMORY_MB / 1024 * lambda_ms / 1000
    return (
        calls.write_units * prices["dynamodb_write_request_million"] / 1e6
        + calls.read_units * prices["dynamodb_read_request_million"] / 1e6
        + calls.count("kms") * prices["kms_requests_10k"] / 1e4
        + calls.count("sqs") * prices["sqs_requests_million"] / 1e6
        + lambda_runs * prices["lambda_requests_million"] / 1e6
        + lambda_runs * gb_s * prices["lambda_arm_gb_second"]
    )


def run() -> dict[str, Any]:
    from moto import mock_aws  # noqa: PLC0415 - the bench's environment is prepared first

    with mock_aws():
        return _measure()


def _measure() -> dict[str, Any]:  # noqa: PLR0915 - one straight measurement
    from functions.container import Container, Ports  # noqa: PLC0415
    from functions.core.models import ConsentMode, ConsentRecord  # noqa: PLC0415
    from functions.core.schedule import SchedulingConfig  # noqa: PLC0415
    from functions.core.settings import Settings  # noqa: PLC0415
    from functions.crypto.contexts import phone_location  # noqa: PLC0415
    from functions.dal.aws import AwsClients  # noqa: PLC0415
    from functions.dal.schema import create_table_kwargs, tenant_key_alias  # noqa: PLC0415
    from functions.handlers import schedule_sweep, sender  # noqa: PLC0415
    from functions.logic.access import Principal, Role  # noqa: PLC0415
    from functions.logic.tenants import TenantSpec, provision_tenant  # noqa: PLC0415
    from local.apigw import LambdaContext  # noqa: PLC0415
    from local.sim_carrier import SimulatedCarrier  # noqa: PLC0415
    from local.workers import sqs_event  # noqa: PLC0415

    class Clock:
        current = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)

        def now(self) -> datetime:
            return self.current

    class Metrics:
        def count(self, name: str, value: int = 1) -> None:
            return None

    clients = AwsClients()
    kms = clients.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=tenant_key_alias("bench"), TargetKeyId=key)
    clients.client("dynamodb").create_table(**create_table_kwargs("bench"))
    sqs = clients.client("sqs")
    queue_url = sqs.create_queue(QueueName="outbound")["QueueUrl"]
    clock = Clock()
    runtime = Container(
        Settings(table_name="bench", outbound_queue_url=queue_url, carrier="simulated"),
        clients=clients,
        ports=Ports(carrier=SimulatedCarrier(), clock=clock, metrics=Metrics()),
    )
    store = runtime.store()
    provision_tenant(
        TenantSpec("bench", "Bench Practice", "(206) 555-0100", 365, ("+12065550100",)),
        store,
        runtime.cipher(),
    )
    tenant = runtime.directory().active_tenant("bench")
    admin = Principal("u-admin", "bench", Role.ADMIN, "s", 0)
    schedules = runtime.schedule_store()
    # One reminder per appointment (24 h before), so each figure is per reminder.
    schedules.put_scheduling_config("bench", SchedulingConfig(reminder_hours_before=(24,)))
    conversations = []
    for n in range(REMINDERS):
        number = f"+1206555{n:04d}"
        conversation_id = runtime.directory().conversation_id_for(tenant, number)
        record = runtime.cipher().encrypt(phone_location("bench", conversation_id), number)
        store.create_conversation(
            "bench",
            conversation_id,
            record.to_bytes(),
            "2026-11-30T14:00:00.000Z",
            consent=ConsentRecord(ConsentMode.PLAIN_SMS, "u", "2026-11-30T14:00:00.000Z", "v1"),
        )
        conversations.append(conversation_id)

    calls = Calls()

    def hook(event_name: str, params: dict[str, Any], **_: Any) -> None:
        calls.record(event_name, params)

    for client in (store.table.meta.client, kms, sqs):
        client.meta.events.register("before-parameter-build", hook)

    # Booking: each appointment plans its reminder (sealed body, schedule, due pointer).
    service = runtime.appointment_service()
    for conversation_id in conversations:
        service.create(admin, conversation_id=conversation_id, start="2026-12-02T10:00")
    booking = Calls(Counter(calls.by_operation), calls.write_units, calls.read_units)
    calls.reset()

    # Idle: a sweep with nothing due.
    sweep = schedule_sweep.handler.bound(runtime)
    started = time.perf_counter()
    idle_result = sweep({}, LambdaContext("bench"))
    idle_ms = (time.perf_counter() - started) * 1000
    idle = Calls(Counter(calls.by_operation), calls.write_units, calls.read_units)
    calls.reset()

    # Due: one sweep sends every reminder, then the sender hands them to the carrier.
    clock.current = datetime(2026, 12, 1, 15, 0, 30, tzinfo=UTC)
    started = time.perf_counter()
    sent = sweep({}, LambdaContext("bench"))
    sweep_ms = (time.perf_counter() - started) * 1000
    send = sender.handler.bound(runtime)
    sender_runs = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            break
        send(
            sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:outbound"),
            LambdaContext("bench"),
        )
        for m in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        sender_runs += 1
    sending = Calls(Counter(calls.by_operation), calls.write_units, calls.read_units)

    prices = _prices()
    scale = 1000 / REMINDERS
    per_thousand = {
        "booking": _usd(booking, prices, lambda_runs=0, lambda_ms=0) * scale,
        "sweep_and_send": _usd(sending, prices, lambda_runs=1 + sender_runs, lambda_ms=sweep_ms)
        * scale,
    }
    sweeps_month = _usd(idle, prices, lambda_runs=1, lambda_ms=idle_ms) * SWEEP_RUNS_PER_MONTH
    # The scheduler's alarms: given-up sends, retry bursts, and its function's DLQ.
    alarms_month = ALARM_METRICS * prices["cloudwatch_alarm_metric_month"]
    idle_month = sweeps_month + alarms_month
    scheduler_price = prices["eventbridge_scheduler_invocations_million"]
    return {
        "reminders": REMINDERS,
        "sent": sent["sent"],
        "idle_sent": idle_result["sent"],
        "calls_per_reminder": {
            "booking": {k: v / REMINDERS for k, v in sorted(booking.by_operation.items())},
            "sending": {k: v / REMINDERS for k, v in sorted(sending.by_operation.items())},
        },
        "idle_calls": dict(sorted(idle.by_operation.items())),
        "idle_sweep_ms": round(idle_ms, 1),
        "due_sweep_ms": round(sweep_ms, 1),
        "usd_per_1000": {k: round(v, 5) for k, v in per_thousand.items()},
        "usd_per_1000_total": round(sum(per_thousand.values()), 5),
        "idle_usd_per_month": round(idle_month, 4),
        "idle_sweeps_usd_per_month": round(sweeps_month, 4),
        "idle_alarms_usd_per_month": round(alarms_month, 4),
        "alarm_metrics": ALARM_METRICS,
        "sweeps_per_month": SWEEP_RUNS_PER_MONTH,
        # The alternative: a one-time schedule per message, priced per invocation.
        "alternative_usd_per_1000_extra": round(1000 * scheduler_price / 1e6, 5),
        # It needs the same alarms (failed invocations, its DLQ); it has no idle runs.
        "alternative_idle_usd_per_month": round(alarms_month, 4),
        # The minute rule's own events, priced as if they were Scheduler invocations: an
        # upper bound (scheduled rules are not billed per event as custom events are).
        "rule_usd_per_month_upper_bound": round(SWEEP_RUNS_PER_MONTH * scheduler_price / 1e6, 4),
        "prices_as_of": json.loads(PRICES_FILE.read_text(encoding="utf-8"))["as_of"],
    }
