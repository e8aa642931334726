"""Scheduled messages and appointment reminders: the sweep that sends what is due.

A function on an EventBridge rule every minute (functions/handlers/schedule_sweep.py)
reads the table's due-time index and sends each due schedule through the outbound queue.
Why a sweep and not an EventBridge Scheduler schedule per message: docs/scheduling.md.

- The event carries nothing (ids stay in the table): no PHI in any scheduler payload.
- A failed invocation is retried by Lambda, then lands in the function's encrypted DLQ
  (QuietlineFunction: alarmed); the due pointers stay in the table meanwhile, so the next
  minute's sweep sends what this one could not: nothing is lost.
- A schedule that keeps failing is marked failed and counted (ScheduledFailed, alarmed);
  repeated retries are counted too (ScheduledRetrying, alarmed past a few).
"""

from __future__ import annotations

import dataclasses

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from constructs import Construct

from functions.core.settings import ENV_OUTBOUND_QUEUE_URL, ENV_SECURE_LINK_BASE_URL
from infra.constructs.function import QuietlineFunction
from infra.constructs.pipeline import PipelineParts

HANDLER = "functions.handlers.schedule_sweep.handler"
# Sent within 60 s of the due time: the rule fires each minute, a sweep takes seconds.
SWEEP_EVERY = cdk.Duration.minutes(1)
SCHEDULER_ALARMS: tuple[tuple[str, int, str], ...] = (
    (
        "ScheduledFailed",
        1,
        "A scheduled message or reminder was given up after repeated faults (see its reason)",
    ),
    (
        "ScheduledRetrying",
        5,
        "Scheduled sends keep failing and are being retried each minute (check KMS/DynamoDB)",
    ),
)


class Scheduler(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        parts: PipelineParts,
        secure_link_base_url: str | None,
    ) -> None:
        """`secure_link_base_url`: the inbox origin (None: scheduled secure links refused).
        Built from the messaging pipeline's parts, its functions in this construct."""
        super().__init__(scope, id)
        parts = dataclasses.replace(parts, scope=self)
        message_store, queues, alarms = parts.store, parts.queues, parts.alarms
        environment = {
            **parts.env_core(),
            ENV_OUTBOUND_QUEUE_URL: queues.outbound.queue.queue_url,
        }
        if secure_link_base_url:
            environment[ENV_SECURE_LINK_BASE_URL] = secure_link_base_url
        self.sweep: QuietlineFunction = parts.function(
            "ScheduleSweep",
            HANDLER,
            "Sends scheduled messages and appointment reminders when they fall due",
            environment,
            timeout=cdk.Duration.seconds(50),
            # One sweep at a time: overlapping sweeps are safe (conditional claims) but waste.
            reserved_concurrency=1,
        )
        # Reads due pointers and schedules, writes the message with the claim. Unwraps the
        # sealed body's key; generates one only for a secure link's notice.
        message_store.grant_read_write_data(self.sweep)
        parts.grant_tenant_keys(self.sweep, decrypt=True, generate=True)
        queues.outbound.grant_send(self.sweep)
        self.rule = parts.on_event(
            "SweepEveryMinute",
            self.sweep,
            schedule=events.Schedule.rate(SWEEP_EVERY),
            description="Quietline: send scheduled messages and reminders now due",
            # A sweep that cannot start within its minute is replaced by the next one.
            max_event_age=cdk.Duration.minutes(1),
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {
            name: alarms.on_code_metric(self, name, threshold=threshold, description=text)
            for name, threshold, text in SCHEDULER_ALARMS
        }
