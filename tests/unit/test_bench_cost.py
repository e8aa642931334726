"""The benchmark's cost model (bench/cost.py) on small hand-made templates, and its price file."""

from __future__ import annotations

from typing import Any

import pytest

from bench.cost import (
    FunctionInfo,
    Prices,
    alarm_metrics,
    fixed_monthly,
    lambda_cost,
    operation_cost,
    per_thousand_messages,
    referenced_type,
    resource_counts,
    schedule_per_month,
)

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def prices() -> Prices:
    return Prices.load()


def test_every_price_names_its_source_and_the_file_its_date(prices: Prices) -> None:
    assert prices.data["as_of"] and "check" in prices.data["basis"].lower()
    for name, entry in prices.data["prices"].items():
        assert entry["source"].startswith("https://aws.amazon.com/"), name
        assert entry["usd"] >= 0 and entry["unit"], name


def _all_entries(prices: Prices) -> dict[str, dict[str, Any]]:
    return {
        **prices.data["prices"],
        **prices.data["carriers"]["prices"],
        **prices.data["voice"]["prices"],
    }


def test_every_price_says_whether_it_was_checked_where_and_when(prices: Prices) -> None:
    for name, entry in _all_entries(prices).items():
        assert entry["status"] in {"checked", "secondary", "unchecked"}, name
        assert entry["read"] == prices.data["as_of"], name
        if entry["status"] != "unchecked":
            # A checked or secondary figure names the page it was read on
            assert entry["checked_at"].startswith("https://"), name


def test_a_checked_price_was_read_on_the_providers_own_site(prices: Prices) -> None:
    own = ("https://aws.amazon.com/", "https://docs.aws.amazon.com/", "https://www.twilio.com/")
    for name, entry in _all_entries(prices).items():
        if entry["status"] == "checked":
            assert entry["checked_at"].startswith(own), name


def _template(**resources: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": resources}


def test_given_keys_alarms_and_endpoints_when_idle_then_each_billed_by_its_unit(
    prices: Prices,
) -> None:
    template = _template(
        Key1={"Type": "AWS::KMS::Key", "Properties": {"Description": "platform"}},
        Key2={"Type": "AWS::KMS::Key", "Properties": {}},
        Alarm={"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "x"}},
        MathAlarm={
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "Metrics": [{"MetricStat": {}}, {"MetricStat": {}}, {"Expression": "m1+m2"}]
            },
        },
        Kms={
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {"VpcEndpointType": "Interface", "SubnetIds": ["a", "b"]},
        },
        Dynamo={"Type": "AWS::EC2::VPCEndpoint", "Properties": {"VpcEndpointType": "Gateway"}},
        Pool={"Type": "AWS::Cognito::UserPool", "Properties": {"UserPoolTier": "ESSENTIALS"}},
        Role={"Type": "AWS::IAM::Role", "Properties": {}},
    )

    items = {i.item: i for i in fixed_monthly(template, prices)}

    assert items["KMS customer managed keys"].monthly_usd == 2.0
    assert "platform" in items["KMS customer managed keys"].note
    assert items["CloudWatch alarm metrics"].quantity == 3
    endpoints = items["Interface VPC endpoints (endpoint \u00d7 AZ)"]
    assert endpoints.quantity == 2
    assert endpoints.monthly_usd == pytest.approx(2 * 0.01 * 730)
    assert items["Cognito user pool (Essentials tier)"].monthly_usd == 0
    assert sum(i.monthly_usd for i in items.values()) == pytest.approx(2.3 + 14.6)


def test_given_a_web_acl_when_priced_then_the_acl_and_each_rule(prices: Prices) -> None:
    template = _template(
        Acl={"Type": "AWS::WAFv2::WebACL", "Properties": {"Rules": [{}, {}]}},
        Secret={"Type": "AWS::SecretsManager::Secret", "Properties": {}},
    )

    total = sum(i.monthly_usd for i in fixed_monthly(template, prices))

    assert total == pytest.approx(5.0 + 2 * 1.0 + 0.4)


def test_given_a_schedule_and_an_sqs_source_when_idle_then_their_runs_are_counted(
    prices: Prices,
) -> None:
    template = _template(
        Fn={
            "Type": "AWS::Lambda::Function",
            "Properties": {"MemorySize": 512, "Architectures": ["arm64"]},
        },
        Rule={
            "Type": "AWS::Events::Rule",
            "Properties": {
                "ScheduleExpression": "rate(5 minutes)",
                "Targets": [{"Arn": {"Fn::GetAtt": ["Fn", "Arn"]}}],
            },
        },
        Queue={"Type": "AWS::SQS::Queue", "Properties": {}},
        Source={
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": {"Fn::GetAtt": ["Queue", "Arn"]}},
        },
    )

    items = fixed_monthly(template, prices, sweep={"wall_ms_with_latency": 50.0})

    runs = next(i for i in items if i.item.startswith("Scheduled"))
    polls = next(i for i in items if i.item.startswith("SQS long polls"))
    assert runs.quantity == 8760
    assert 0 < runs.monthly_usd < 0.5
    assert polls.quantity == 5 * 730 * 60 * 3
    assert polls.free_tier_credit_usd == pytest.approx(polls.monthly_usd)


@pytest.mark.parametrize(
    ("expression", "per_month"),
    [
        ("rate(5 minutes)", 8760),
        ("rate(1 hour)", 730),
        ("rate(2 days)", 15.2083),
        ("cron(0 5 * * ? *)", 30),
    ],
)
def test_given_schedules_when_counted_then_runs_a_month(expression: str, per_month: float) -> None:
    assert schedule_per_month(expression) == pytest.approx(per_month, rel=1e-3)


def test_given_references_when_resolved_then_the_target_type() -> None:
    template = _template(Q={"Type": "AWS::SQS::Queue"})

    assert referenced_type(template, {"Fn::GetAtt": ["Q", "Arn"]}) == "AWS::SQS::Queue"
    assert referenced_type(template, {"Ref": "Q"}) == "AWS::SQS::Queue"
    assert referenced_type(template, {"Ref": "Missing"}) is None
    assert alarm_metrics({"Properties": {}}) == 1
    assert resource_counts(template) == {"AWS::SQS::Queue": 1}


def test_given_lambda_durations_when_priced_then_billed_per_started_millisecond(
    prices: Prices,
) -> None:
    fn = FunctionInfo(memory_mb=1024, arm=True)

    one = lambda_cost(prices, fn, 1, 0.0101)

    assert one == pytest.approx(0.2 / 1e6 + 0.011 * 1.33334e-05)


def test_given_measured_operations_when_per_thousand_then_mix_times_each(
    prices: Prices,
) -> None:
    op = {
        "key": "inbound_sns",
        "calls_by_service": {"dynamodb": 3, "kms": 1, "sns": 1},
        "kms_requests": 1,
        "read_units": 1.5,
        "write_units": 8.0,
        "log_bytes": 0,
        "wall_ms_with_latency": 70.0,
    }
    traced = operation_cost(
        op,
        FunctionInfo(),
        prices,
        api_gateway=False,
        trail=True,
        trail_data_events=True,
        trail_to_logs=False,
    )
    untraced = operation_cost(
        op,
        FunctionInfo(),
        prices,
        api_gateway=False,
        trail=False,
        trail_data_events=False,
        trail_to_logs=False,
    )

    result = per_thousand_messages([op], {"Resources": {}}, prices, mix={"inbound_sns": 500})

    assert traced["kms"] == pytest.approx(0.03 / 1e4)
    assert traced["sns"] == pytest.approx(2 * 0.5 / 1e6)  # ours + End User Messaging's publish
    assert traced["api_gateway"] == 0
    assert traced["cloudtrail_data_events"] == pytest.approx(3 * 0.1 / 1e5)
    assert untraced["cloudtrail_data_events"] == untraced["cloudtrail_s3_storage"] == 0
    assert result["total_usd"] == pytest.approx(500 * sum(untraced.values()))
    assert result["by_operation"]["inbound_sns"]["count"] == 500


def test_given_two_voice_numbers_when_idle_then_each_number_s_monthly_fee(
    prices: Prices,
) -> None:
    # Given a voice deployment with a SIP rule for each of two voice numbers
    template = _template(
        Rule1={"Type": "Custom::ChimeSipRule", "Properties": {}},
        Rule2={"Type": "Custom::ChimeSipRule", "Properties": {}},
        Sma={"Type": "AWS::Chime::SipMediaApplication", "Properties": {}},
    )
    # When the idle month is priced
    items = {i.item: i for i in fixed_monthly(template, prices)}
    # Then two numbers at the number price, and the SMA itself costs nothing idle
    numbers = items["Chime SDK voice numbers (one SIP rule each)"]
    assert numbers.quantity == 2
    assert numbers.monthly_usd == pytest.approx(2 * prices.usd("chime_phone_number_month"))
    assert "unverified" in numbers.note
    assert sum(i.monthly_usd for i in items.values()) == numbers.monthly_usd
