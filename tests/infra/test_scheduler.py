"""The scheduled-send sweep: every minute, retried into an alarmed DLQ, exact grants."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from functions.core import settings
from infra.stack import QuietlineStack
from tests.infra.conftest import arn, resource, single

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


def test_the_sweep_runs_every_minute_with_retries_and_its_dlq(
    stack: QuietlineStack, app_template: Template
) -> None:
    sweep = stack.scheduler.sweep
    single(
        app_template, "AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"}
    ).has_properties(
        {
            "Targets": [
                {
                    "Arn": arn(sweep.function),
                    "DeadLetterConfig": Match.object_equals({"Arn": arn(sweep.dead_letter_queue)}),
                    "RetryPolicy": Match.object_like({"MaximumRetryAttempts": Match.any_value()}),
                }
            ]
        }
    )


def test_the_event_carries_nothing_the_function_reads_ids_from_the_table(
    stack: QuietlineStack, app_template: Template
) -> None:
    # No Input on the target: EventBridge sends its own schedule event, never a payload.
    single(
        app_template, "AWS::Events::Rule", {"ScheduleExpression": "rate(1 minute)"}
    ).has_properties({"Targets": [Match.object_like({"Input": Match.absent()})]})


def test_one_sweep_at_a_time_with_only_the_settings_it_reads(
    stack: QuietlineStack, app_template: Template
) -> None:
    fn = resource(app_template, stack.scheduler.sweep.function)
    fn.has_properties(
        {
            "ReservedConcurrentExecutions": 1,
            "DeadLetterConfig": {"TargetArn": Match.any_value()},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        settings.ENV_TABLE_NAME: Match.any_value(),
                        settings.ENV_OUTBOUND_QUEUE_URL: Match.any_value(),
                    }
                )
            },
        }
    )


def test_given_up_sends_and_retry_bursts_alarm_to_the_topic(
    stack: QuietlineStack, app_template: Template
) -> None:
    for name in ("ScheduledFailed", "ScheduledRetrying"):
        resource(app_template, stack.scheduler.alarms[name]).has_properties(
            {
                "MetricName": name,
                "AlarmActions": [{"Ref": Match.any_value()}],
                "OKActions": [{"Ref": Match.any_value()}],
            }
        )
