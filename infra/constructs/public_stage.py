"""Watching a public REST stage apart from the staff API: its own 4xx-burst and 5xx alarms.

Anyone on the internet can send junk to a public stage (the clients' secure-link API, the
Twilio webhooks); CloudWatch counts API Gateway's 4XXError and 5XXError per API and stage,
so these alarms see that stage alone and nothing public can trip an alarm meant for staff.
A saved Logs Insights query over the stage's access log names the source of a burst (the
access log holds the client IP; an IP never goes into a metric dimension).
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.rest_api import RegionalApi


class PublicStageAlarms(Construct):
    """The 4xx-burst and 5xx alarms of one public stage and the query that explains them."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        alarms: Alarms,
        rest: RegionalApi,
        name: str,
        client_error_burst: int,
        client_errors_mean: str,
        server_errors_mean: str,
    ) -> None:
        super().__init__(scope, id)
        self.query = logs.QueryDefinition(
            self,
            "ClientErrorsBySource",
            query_definition_name=f"{config.stack_name}/{name}/client-errors-by-source",
            query_string=logs.QueryString(
                fields=["@timestamp", "ip", "httpMethod", "resourcePath", "status"],
                filter_statements=["status like /^4/"],
                stats_statements=["count(*) as errors by ip, status, resourcePath"],
                sort="errors desc",
                limit=20,
            ),
            log_groups=[rest.access_logs],
        )
        self.client_error_alarm: cloudwatch.Alarm = alarms.on_stage_client_error_burst(
            self,
            rest.stage,
            threshold=client_error_burst,
            description=(
                f"{client_errors_mean} Not a staff outage. Find the source with the Logs"
                f" Insights query {config.stack_name}/{name}/client-errors-by-source; one"
                " address: turn on waf.enabled (per-IP rate limit); see docs/operations.md."
            ),
        )
        self.server_error_alarm: cloudwatch.Alarm = alarms.on_stage_server_errors(
            self, rest.stage, description=server_errors_mean
        )
