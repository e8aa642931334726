"""Section 5: the monthly AWS cost model, read from the synthesized CloudFormation template.

Fixed (idle) cost: every resource in the template that is billed by the month or by the
hour, counted by type, plus what an idle deployment still runs on its own (the scheduled
sweeper, the SQS event sources' long polling). Variable cost: the measured per-operation
figures of sections 1 and 4 (AWS calls, KMS requests, capacity units, log bytes, handler
wall time) times the prices, for a stated mix of operations per 1,000 messages. Carrier
fees (SMS, phone numbers) are excluded. Prices: bench/prices.json (sources and date).

The pure functions take a template dict and a Prices; `synthesize` builds the templates
with infra.app_factory (bundling skipped), so the model follows the stack as it grows.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PRICES_FILE = Path(__file__).with_name("prices.json")
ACCOUNT = "123456789012"
DEFAULT_AZS = 2  # when an endpoint's subnets are not a literal list
MINUTES_PER_MONTH = 730 * 60
GB = 1024**3

# --- assumptions (each one is printed in docs/benchmarks.md) -------------------------------
STAFF_USERS = 10  # monthly active staff of one practice
# Per 1,000 messages: half inbound, half outbound (each outbound sent once and reported
# delivered once); staff open the inbox list and one thread (a page of 50) per inbound text.
MESSAGE_MIX: dict[str, float] = {
    "inbound_sns": 500,
    "outbound_accept": 500,
    "send": 500,
    "status_update": 500,
    "conversation_list_50": 500,
    "thread_read_50": 500,
}
HANDLER_OF: dict[str, str] = {
    "inbound_sns": "functions.handlers.inbound_sns.handler",
    "inbound_twilio": "functions.handlers.twilio_webhook.handler",
    "outbound_accept": "functions.handlers.api.handler",
    "send": "functions.handlers.sender.handler",
    "status_update": "functions.handlers.delivery_events.handler",
    "conversation_list_50": "functions.handlers.api.handler",
    "thread_read_50": "functions.handlers.api.handler",
    "sweep": "functions.handlers.sweeper.handler",
}
BEHIND_API_GATEWAY = frozenset(
    {"outbound_accept", "conversation_list_50", "thread_read_50", "inbound_twilio"}
)
# Requests the platform makes that the handler does not: SQS event source receive+delete
# of the outbound message, End User Messaging's publish of the inbound text to SNS.
PLATFORM_CALLS: dict[str, dict[str, int]] = {
    "send": {"sqs": 2},
    "inbound_sns": {"sns": 1},
}
LAMBDA_PLATFORM_LOG_BYTES = 350  # START, END and REPORT lines per invocation
APIGW_EXECUTION_LOG_BYTES = 3000  # REST stage execution logging at INFO, per request
APIGW_ACCESS_LOG_BYTES = 250  # one JSON access-log line per request
TRAIL_EVENT_BYTES = 1500  # one CloudTrail record as delivered to CloudWatch Logs
TRAIL_S3_EVENT_BYTES = 150  # the same record in the trail's gzipped S3 log files
# CloudTrail delivers a log file about every 5 minutes while events flow (the sweeper's
# DynamoDB data event guarantees that), plus one digest file an hour (log file validation).
TRAIL_FILES_PER_MONTH = 12 * 730 + 730
# Lambda's SQS event source long-polls an idle queue: about 5 pollers x 20 s waits.
IDLE_SQS_POLLS_PER_SOURCE = 5 * MINUTES_PER_MONTH * 60 // 20
BACKUP_COPIES = 35 + 12  # daily kept 35 days + monthly kept a year, at steady state


@dataclass(frozen=True)
class Prices:
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path = PRICES_FILE) -> Prices:
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def usd(self, key: str) -> float:
        return float(self.data["prices"][key]["usd"])

    @property
    def hours(self) -> float:
        return float(self.data.get("hours_per_month", 730))


@dataclass
class LineItem:
    item: str
    quantity: float
    unit_usd: float
    monthly_usd: float
    price_key: str
    note: str = ""
    free_tier_credit_usd: float = 0.0


@dataclass(frozen=True)
class FunctionInfo:
    memory_mb: int = 512
    arm: bool = True


# --- reading the template ------------------------------------------------------------------
def resources(template: Mapping[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("Type") == resource_type
    }


def resource_counts(template: Mapping[str, Any]) -> dict[str, int]:
    found = Counter(r.get("Type", "?") for r in template.get("Resources", {}).values())
    return dict(sorted(found.items()))


def alarm_metrics(alarm: Mapping[str, Any]) -> int:
    """Alarms are billed per metric evaluated: a metric-math alarm counts each metric."""
    metrics = alarm.get("Properties", {}).get("Metrics")
    if not metrics:
        return 1
    return max(1, sum(1 for m in metrics if "MetricStat" in m))


def endpoint_azs(endpoint: Mapping[str, Any]) -> int:
    subnets = endpoint.get("Properties", {}).get("SubnetIds")
    return len(subnets) if isinstance(subnets, list) else DEFAULT_AZS


def schedule_per_month(expression: str) -> float:
    """Invocations a month of `rate(N unit)`; a cron expression counts as daily (1/day)."""
    found = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if not found:
        return 30.0
    every = int(found.group(1))
    unit = found.group(2).rstrip("s")
    minutes = {"minute": 1, "hour": 60, "day": 1440}[unit] * every
    return MINUTES_PER_MONTH / minutes


def functions_by_handler(template: Mapping[str, Any]) -> dict[str, FunctionInfo]:
    found = {}
    for resource in resources(template, "AWS::Lambda::Function").values():
        props = resource.get("Properties", {})
        handler = props.get("Handler")
        if isinstance(handler, str):
            found[handler] = FunctionInfo(
                int(props.get("MemorySize", 128)), "arm64" in props.get("Architectures", [])
            )
    return found


def _function_of_target(template: Mapping[str, Any], rule: Mapping[str, Any]) -> FunctionInfo:
    for target in rule.get("Properties", {}).get("Targets", []):
        arn = target.get("Arn")
        if isinstance(arn, dict) and "Fn::GetAtt" in arn:
            logical = arn["Fn::GetAtt"][0]
            props = template["Resources"].get(logical, {}).get("Properties", {})
            return FunctionInfo(
                int(props.get("MemorySize", 128)), "arm64" in props.get("Architectures", [])
            )
    return FunctionInfo()


def trail_logs_dynamodb_data_events(template: Mapping[str, Any]) -> bool:
    for trail in resources(template, "AWS::CloudTrail::Trail").values():
        selectors = trail.get("Properties", {}).get("AdvancedEventSelectors", [])
        text = json.dumps(selectors)
        if '"Data"' in text and "AWS::DynamoDB::Table" in text:
            return True
    return False


def trail_sends_to_cloudwatch_logs(template: Mapping[str, Any]) -> bool:
    return any(
        t.get("Properties", {}).get("CloudWatchLogsLogGroupArn")
        for t in resources(template, "AWS::CloudTrail::Trail").values()
    )


def referenced_type(template: Mapping[str, Any], value: Any) -> str | None:
    """The resource type a {"Fn::GetAtt": [id, ...]} or {"Ref": id} points at."""
    if isinstance(value, dict):
        target = value.get("Ref") or (value.get("Fn::GetAtt") or [None])[0]
        if isinstance(target, str):
            found = template.get("Resources", {}).get(target, {}).get("Type")
            return str(found) if found else None
    if isinstance(value, str) and value.startswith("arn:aws:sqs:"):
        return "AWS::SQS::Queue"
    return None


def _describe(resource: Mapping[str, Any], logical_id: str) -> str:
    description = resource.get("Properties", {}).get("Description")
    return description if isinstance(description, str) else logical_id


# --- costs ----------------------------------------------------------------------------------
def lambda_cost(prices: Prices, fn: FunctionInfo, invocations: float, seconds: float) -> float:
    billed = math.ceil(seconds * 1000) / 1000
    per_gb_s = prices.usd("lambda_arm_gb_second" if fn.arm else "lambda_x86_gb_second")
    return invocations * (
        prices.usd("lambda_requests_million") / 1e6 + fn.memory_mb / 1024 * billed * per_gb_s
    )


def fixed_monthly(
    template: Mapping[str, Any], prices: Prices, *, sweep: Mapping[str, Any] | None = None
) -> list[LineItem]:
    """What the deployment costs a month with no messages at all."""
    items: list[LineItem] = []
    hours = prices.hours

    def add(item: str, quantity: float, key: str, note: str = "", per: float = 1.0) -> None:
        unit = prices.usd(key) * per
        items.append(LineItem(item, quantity, unit, quantity * unit, key, note))

    keys = resources(template, "AWS::KMS::Key")
    if keys:
        add(
            "KMS customer managed keys",
            len(keys),
            "kms_key_month",
            "; ".join(_describe(r, k) for k, r in keys.items()),
        )
    alarms = sum(alarm_metrics(a) for a in resources(template, "AWS::CloudWatch::Alarm").values())
    if alarms:
        add("CloudWatch alarm metrics", alarms, "cloudwatch_alarm_metric_month")
        items[-1].free_tier_credit_usd = min(alarms, 10) * prices.usd(
            "cloudwatch_alarm_metric_month"
        )
    secrets = resources(template, "AWS::SecretsManager::Secret")
    if secrets:
        add("Secrets Manager secrets", len(secrets), "secrets_manager_secret_month")
    acls = resources(template, "AWS::WAFv2::WebACL")
    if acls:
        add("WAF web ACLs", len(acls), "waf_web_acl_month")
        rules = sum(len(a.get("Properties", {}).get("Rules", [])) for a in acls.values())
        add("WAF rules and managed rule groups", rules, "waf_rule_month")
    endpoints = [
        e
        for e in resources(template, "AWS::EC2::VPCEndpoint").values()
        if e.get("Properties", {}).get("VpcEndpointType") == "Interface"
    ]
    if endpoints:
        az_hours = sum(endpoint_azs(e) for e in endpoints)
        add(
            "Interface VPC endpoints (endpoint \u00d7 AZ)",
            az_hours,
            "vpc_interface_endpoint_az_hour",
            f"{len(endpoints)} interface endpoints; gateway endpoints are free",
            per=hours,
        )
    nat = resources(template, "AWS::EC2::NatGateway")
    if nat:
        add("NAT gateways", len(nat), "nat_gateway_hour", per=hours)
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    if dashboards:
        add("CloudWatch dashboards", len(dashboards), "cloudwatch_dashboard_month")
    zones = resources(template, "AWS::Route53::HostedZone")
    if zones:
        add("Route 53 hosted zones", len(zones), "route53_hosted_zone_month")
    for pool in resources(template, "AWS::Cognito::UserPool").values():
        tier = str(pool.get("Properties", {}).get("UserPoolTier", "ESSENTIALS")).upper()
        if tier == "PLUS":
            add("Cognito user pool (Plus tier)", STAFF_USERS, "cognito_plus_mau", "per staff MAU")
        else:
            items.append(
                LineItem(
                    f"Cognito user pool ({tier.title()} tier)",
                    STAFF_USERS,
                    0.0,
                    0.0,
                    "cognito_essentials_mau",
                    f"{STAFF_USERS} staff, inside the 10,000-MAU free tier",
                )
            )
    sip_rules = resources(template, "Custom::ChimeSipRule")
    if sip_rules:
        # A carrier fee, shown because voice on AWS needs its own number (docs/voice.md).
        add(
            "Chime SDK voice numbers (one SIP rule each)",
            len(sip_rules),
            "chime_phone_number_month",
            "ordered outside the stack; per-minute PSTN and SMA usage not priced (unverified)",
        )
    items += _idle_activity(template, prices, sweep)
    return items


def _idle_activity(
    template: Mapping[str, Any], prices: Prices, sweep: Mapping[str, Any] | None
) -> list[LineItem]:
    items: list[LineItem] = []
    data_events = trail_logs_dynamodb_data_events(template)
    to_logs = trail_sends_to_cloudwatch_logs(template)
    for rule in resources(template, "AWS::Events::Rule").values():
        expression = rule.get("Properties", {}).get("ScheduleExpression")
        if not isinstance(expression, str):
            continue
        runs = schedule_per_month(expression)
        fn = _function_of_target(template, rule)
        seconds = (sweep or {}).get("wall_ms_with_latency", 100.0) / 1000
        calls = (sweep or {}).get("calls_by_service", {}).get("dynamodb", 1)
        units = float((sweep or {}).get("read_units", 0.5))
        per_run = (
            lambda_cost(prices, fn, 1, seconds)
            + prices.usd("xray_traces_million") / 1e6
            + units * prices.usd("dynamodb_read_request_million") / 1e6
            + (calls * prices.usd("cloudtrail_data_events_100k") / 1e5 if data_events else 0.0)
            + (
                LAMBDA_PLATFORM_LOG_BYTES
                + (calls * TRAIL_EVENT_BYTES if data_events and to_logs else 0)
            )
            / GB
            * prices.usd("cloudwatch_logs_ingest_gb")
        )
        items.append(
            LineItem(
                f"Scheduled function runs ({expression})",
                round(runs),
                per_run,
                runs * per_run,
                "lambda_requests_million",
                f"{fn.memory_mb} MB, {seconds * 1000:.0f} ms each (measured sweep), its "
                "X-Ray trace, DynamoDB read, CloudTrail data events and log lines",
            )
        )
    trails = resources(template, "AWS::CloudTrail::Trail")
    if trails:
        encrypted = any(t.get("Properties", {}).get("KMSKeyId") for t in trails.values())
        per_file = prices.usd("s3_put_1k") / 1e3 + (
            prices.usd("kms_requests_10k") / 1e4 if encrypted else 0.0
        )
        files = len(trails) * TRAIL_FILES_PER_MONTH
        items.append(
            LineItem(
                "CloudTrail log and digest files (estimate)",
                files,
                per_file,
                files * per_file,
                "s3_put_1k",
                "a log file every ~5 minutes while events flow, a digest an hour; each an S3 "
                "PUT" + (" and a KMS data key" if encrypted else ""),
            )
        )
    sqs_sources = [
        m
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if referenced_type(template, m.get("Properties", {}).get("EventSourceArn"))
        == "AWS::SQS::Queue"
    ]
    if sqs_sources:
        polls = len(sqs_sources) * IDLE_SQS_POLLS_PER_SOURCE
        unit = prices.usd("sqs_requests_million") / 1e6
        items.append(
            LineItem(
                "SQS long polls by idle Lambda event sources (estimate)",
                polls,
                unit,
                polls * unit,
                "sqs_requests_million",
                f"{len(sqs_sources)} SQS event sources \u00d7 ~{IDLE_SQS_POLLS_PER_SOURCE:,} "
                "ReceiveMessage a month (5 pollers, 20 s long polls)",
                free_tier_credit_usd=min(polls, 1_000_000) * unit,
            )
        )
    return items


def operation_cost(
    op: Mapping[str, Any],
    fn: FunctionInfo,
    prices: Prices,
    *,
    api_gateway: bool,
    trail: bool,
    trail_data_events: bool,
    trail_to_logs: bool,
) -> dict[str, float]:
    """USD of one run of a measured operation, by component."""
    services = dict(op.get("calls_by_service", {}))
    for service, count in PLATFORM_CALLS.get(op["key"], {}).items():
        services[service] = services.get(service, 0) + count
    dynamodb_calls = services.get("dynamodb", 0)
    kms_calls = op.get("kms_requests", services.get("kms", 0))
    log_bytes = op.get("log_bytes", 0) + LAMBDA_PLATFORM_LOG_BYTES
    if api_gateway:
        log_bytes += APIGW_EXECUTION_LOG_BYTES + APIGW_ACCESS_LOG_BYTES
    trail_events = ((dynamodb_calls if trail_data_events else 0) + kms_calls) if trail else 0
    if trail_to_logs:
        log_bytes += trail_events * TRAIL_EVENT_BYTES
    return {
        "lambda": lambda_cost(prices, fn, 1, op["wall_ms_with_latency"] / 1000),
        "api_gateway": prices.usd("api_gateway_rest_million") / 1e6 if api_gateway else 0.0,
        "kms": kms_calls * prices.usd("kms_requests_10k") / 1e4,
        "dynamodb": op.get("read_units", 0.0) * prices.usd("dynamodb_read_request_million") / 1e6
        + op.get("write_units", 0.0) * prices.usd("dynamodb_write_request_million") / 1e6,
        "cloudtrail_data_events": (
            dynamodb_calls * prices.usd("cloudtrail_data_events_100k") / 1e5
            if trail_data_events
            else 0.0
        ),
        "sqs": services.get("sqs", 0) * prices.usd("sqs_requests_million") / 1e6,
        "sns": services.get("sns", 0) * prices.usd("sns_publish_million") / 1e6,
        "logs": log_bytes / GB * prices.usd("cloudwatch_logs_ingest_gb"),
        # The month's trail records in S3 (first month; they are kept for years).
        "cloudtrail_s3_storage": trail_events
        * TRAIL_S3_EVENT_BYTES
        / GB
        * prices.usd("s3_standard_gb_month"),
        "xray": prices.usd("xray_traces_million") / 1e6,
    }


def per_thousand_messages(
    operations: Iterable[Mapping[str, Any]],
    template: Mapping[str, Any],
    prices: Prices,
    mix: Mapping[str, float] = MESSAGE_MIX,
) -> dict[str, Any]:
    by_key = {op["key"]: op for op in operations}
    functions = functions_by_handler(template)
    data_events = trail_logs_dynamodb_data_events(template)
    to_logs = trail_sends_to_cloudwatch_logs(template)
    trail = bool(resources(template, "AWS::CloudTrail::Trail"))
    components: dict[str, float] = {}
    per_operation = {}
    for key, count in mix.items():
        op = by_key.get(key)
        if op is None:
            continue
        fn = functions.get(HANDLER_OF.get(key, ""), FunctionInfo())
        cost = operation_cost(
            op,
            fn,
            prices,
            api_gateway=key in BEHIND_API_GATEWAY,
            trail=trail,
            trail_data_events=data_events,
            trail_to_logs=to_logs,
        )
        per_operation[key] = {
            "count": count,
            "usd_each": sum(cost.values()),
            "usd": count * sum(cost.values()),
        }
        for name, usd in cost.items():
            components[name] = components.get(name, 0.0) + count * usd
    return {
        "mix": dict(mix),
        "total_usd": sum(components.values()),
        "by_component": dict(sorted(components.items(), key=lambda kv: -kv[1])),
        "by_operation": per_operation,
    }


def retention_per_thousand(message_item_bytes: float, prices: Prices) -> dict[str, float]:
    """What 1,000 stored messages cost each month they are kept (table, PITR, backups)."""
    gb = 1000 * message_item_bytes / GB
    return {
        "gb": gb,
        "storage": gb * prices.usd("dynamodb_storage_gb_month"),
        "pitr": gb * prices.usd("dynamodb_pitr_gb_month"),
        "backups": gb * BACKUP_COPIES * prices.usd("backup_dynamodb_gb_month"),
    }


# --- synthesis ---------------------------------------------------------------------------------
VARIANTS: dict[str, dict[str, Any]] = {
    "idle": {"vpc": {"enabled": False}, "waf": {"enabled": False}},
    "vpc": {"vpc": {"enabled": True}, "waf": {"enabled": False}},
    "waf": {"vpc": {"enabled": False}, "waf": {"enabled": True}},
    "twilio": {
        "vpc": {"enabled": False},
        "waf": {"enabled": False},
        "carrier": "twilio",
        "twilio": {"account_sid": "AC" + "0" * 32},
    },
    # Chime SDK voice: End User Messaging numbers cannot take Chime calls, so the practice's
    # tenant has a second number that only calls (infra/config.py VoiceConfig).
    "aws-voice": {
        "vpc": {"enabled": False},
        "waf": {"enabled": False},
        "tenants": [
            {
                "id": "harbor",
                "display_name": "Harbor Counseling",
                "business_numbers": ["+12065550100", "+12065550101"],
                "support_contact": "(206) 555-0100",
            }
        ],
        "voice": {"enabled": True, "numbers": ["+12065550101"]},
    },
    # Twilio voice adds no AWS idle cost beyond the (empty) voicemail buckets and the voice
    # function's alarms; this variant prices exactly what its template shows.
    "twilio-voice": {
        "vpc": {"enabled": False},
        "waf": {"enabled": False},
        "carrier": "twilio",
        "twilio": {"account_sid": "AC" + "0" * 32},
        "voice": {"enabled": True, "numbers": ["+12065550100"]},
    },
}


@dataclass
class Synthesis:
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def synthesize(variants: Mapping[str, Mapping[str, Any]] = VARIANTS) -> Synthesis:
    """The repository's config (quietline.config.json, one practice) as each variant, all
    stacks of one app synthesized once; a variant that fails is retried alone.

    Runs in a child process, so the jsii Node.js runtime ends with it instead of living on
    beside the timed sections."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="quietline-bench-synth-") as workdir:
        request = Path(workdir) / "variants.json"
        answer = Path(workdir) / "synthesis.json"
        request.write_text(json.dumps(variants), encoding="utf-8")
        subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "bench.cost", str(request), str(answer)],
            cwd=Path(__file__).resolve().parent.parent,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        found = json.loads(answer.read_text(encoding="utf-8"))
    return Synthesis(found["templates"], found["errors"], time.perf_counter() - started)


def _synthesize_here(variants: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {"templates": {}, "errors": {}}
    try:
        result["templates"] = _synth(variants)
    except Exception:
        for name, overrides in variants.items():
            try:
                result["templates"].update(_synth({name: overrides}))
            except Exception as error:
                result["errors"][name] = f"{type(error).__name__}: {str(error)[:300]}"
    return result


def _synth(variants: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    from infra.app_factory import BUNDLING_STACKS, create_app, resolve_environment  # noqa: PLC0415
    from infra.config import load_config, parse_config  # noqa: PLC0415
    from infra.stack import QuietlineStack  # noqa: PLC0415

    base = load_config().model_dump(mode="json", exclude_none=True)
    base["account"] = base.get("account") or ACCOUNT
    with tempfile.TemporaryDirectory(prefix="quietline-bench-cdk-") as outdir:
        app = create_app(outdir=outdir, context={BUNDLING_STACKS: []})
        names = {}
        for name, overrides in variants.items():
            stack_name = f"Bench{name.title()}"
            config = parse_config(
                {**base, **overrides, "stack_name": stack_name}, source=f"bench:{name}"
            )
            QuietlineStack(app, stack_name, config=config, env=resolve_environment(config))
            names[stack_name] = name
        assembly = app.synth()
        return {names[s.stack_name]: s.template for s in assembly.stacks}


def items_as_dicts(items: Iterable[LineItem]) -> list[dict[str, Any]]:
    return [asdict(i) for i in items]


if __name__ == "__main__":  # the child process of `synthesize`
    variants_file, answer_file = sys.argv[1:3]
    variants = json.loads(Path(variants_file).read_text(encoding="utf-8"))
    Path(answer_file).write_text(json.dumps(_synthesize_here(variants)), encoding="utf-8")
