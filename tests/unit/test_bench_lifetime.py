"""KMS rotation charges by year of a deployment, and the way to the idle target
(bench/lifetime.py), on hand-made prices and templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.cost import Prices
from bench.doc.lifetime import (
    README_END,
    README_START,
    replace_readme_block,
    rotation_table,
)
from bench.lifetime import (
    KeyInfo,
    cheapest_design,
    idle_by_year,
    key_year_monthly_usd,
    rotation_choices,
    template_keys,
)

pytestmark = pytest.mark.unit


def _prices(key: float = 1.0, rotation: float = 1.0, cap: int = 2) -> Prices:
    return Prices(
        {
            "prices": {
                "kms_key_month": {"usd": key},
                "kms_key_rotation_month": {"usd": rotation, "billed_rotations_max": cap},
                "cloudwatch_alarm_metric_month": {"usd": 0.1},
            }
        }
    )


def test_given_yearly_rotation_when_priced_then_two_rotations_add_and_then_stop() -> None:
    prices = _prices()

    by_year = [key_year_monthly_usd(year, 365, prices) for year in (1, 2, 3, 4, 10)]

    assert by_year == pytest.approx([1.0, 2.0, 3.0, 3.0, 3.0])


def test_given_a_90_day_period_when_priced_then_year_one_averages_the_steps_by_day() -> None:
    # Days 0-89 at $1, 90-179 at $2, 180-364 at $3 (capped after the second rotation)
    assert key_year_monthly_usd(1, 90, _prices()) == pytest.approx((90 + 2 * 90 + 3 * 185) / 365)


def test_given_the_longest_period_when_it_first_rotates_in_year_8_then_only_that_year_rises() -> (
    None
):
    prices = _prices()

    assert key_year_monthly_usd(7, 2560, prices) == pytest.approx(1.0)
    # Year 8 is days 2555-2919: five days before the rotation at day 2560, 360 after
    assert key_year_monthly_usd(8, 2560, prices) == pytest.approx((5 + 2 * 360) / 365)


def test_given_rotation_off_when_priced_then_the_key_price_never_changes() -> None:
    assert key_year_monthly_usd(9, None, _prices(key=1.5)) == pytest.approx(1.5)


def test_given_other_prices_and_cap_when_priced_then_the_file_not_a_constant_decides() -> None:
    prices = _prices(key=2.0, rotation=0.5, cap=1)

    assert [key_year_monthly_usd(y, 365, prices) for y in (1, 2, 3)] == pytest.approx(
        [2.0, 2.5, 2.5]
    )


def test_given_a_period_outside_what_kms_allows_when_compared_then_refused() -> None:
    with pytest.raises(ValueError, match="90-2560"):
        rotation_choices(_prices(), periods=(60,))


def test_given_two_periods_when_compared_then_the_longer_costs_less_over_ten_years() -> None:
    rows = {r["period_days"]: r for r in rotation_choices(_prices(), periods=(365, 2560))}

    assert rows[365]["per_year_usd"]["3"] == pytest.approx(36.0)
    assert rows[2560]["per_year_usd"]["3"] == pytest.approx(12.0)
    assert rows[365]["horizon_usd"] == pytest.approx(12 + 24 + 8 * 36)


def _key(rotation: bool | None = True, period: int | None = None, text: str = "") -> dict[str, Any]:
    props: dict[str, Any] = {"Description": text}
    if rotation is not None:
        props["EnableKeyRotation"] = rotation
    if period is not None:
        props["RotationPeriodInDays"] = period
    return {"Type": "AWS::KMS::Key", "Properties": props}


def test_given_keys_in_a_template_when_read_then_periods_default_to_kms_yearly() -> None:
    template = {
        "Resources": {
            "Platform": _key(period=2560, text="platform: table, logs"),
            "Tenant": _key(text="envelope key of tenant harbor"),
            "Plain": _key(rotation=None),
        }
    }

    keys = {k.logical_id: k for k in template_keys(template)}

    assert keys["Platform"].rotation_days == 2560 and not keys["Platform"].tenant
    assert keys["Tenant"].rotation_days == 365 and keys["Tenant"].tenant
    assert keys["Plain"].rotation_days is None


def test_given_idle_items_when_aged_then_only_the_keys_change_by_year() -> None:
    items = [
        {"item": "KMS customer managed keys", "price_key": "kms_key_month", "monthly_usd": 2.0},
        {"item": "CloudWatch alarm metrics", "price_key": "x", "monthly_usd": 0.7},
    ]
    keys = [KeyInfo("A", "platform", 365), KeyInfo("B", "tenant t", 2560)]

    years = idle_by_year(items, keys, _prices(), years=(1, 3))

    assert [y["total_usd"] for y in years] == pytest.approx([2.7, 4.7])
    assert [y["keys"][1]["monthly_usd"] for y in years] == pytest.approx([1.0, 1.0])


DLQ_METRIC = "ApproximateNumberOfMessagesVisible"


def _alarm(namespace: str, metric: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {"Namespace": namespace, "MetricName": metric},
    }


def test_given_alarm_families_when_consolidated_then_each_family_keeps_one_alarm() -> None:
    template = {
        "Resources": {
            **{f"Dlq{n}": _alarm("AWS/SQS", DLQ_METRIC) for n in range(4)},
            **{f"Sec{n}": _alarm("App/Security", f"Rule{n}") for n in range(3)},
            "Api": _alarm("AWS/ApiGateway", "5XXError"),
        }
    }
    items = [{"item": "CloudWatch alarm metrics", "quantity": 8, "monthly_usd": 0.8}]
    keys = [KeyInfo("A", "platform", 2560)]

    found = cheapest_design(template, items, 3.55, 3, keys, _prices(), target_usd=3.0)

    saved = {s["family"]: s["saves_usd"] for s in found["steps"]}
    assert saved == pytest.approx({"dead_letter_queues": 0.3, "security_metric_filters": 0.2})
    assert found["end_usd"] == pytest.approx(3.05)
    assert not found["met_with_steps"]
    # Three alarms left, inside the 10 free alarm metrics: all of them would be free
    assert found["end_with_free_tiers_usd"] == pytest.approx(2.75)
    assert found["met_with_free_tiers"]


def test_given_two_sqs_event_sources_when_merged_then_half_the_idle_polling_goes() -> None:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}

    def mapping(queue_id: str) -> dict[str, Any]:
        return {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {"EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]}},
        }

    template = {"Resources": {"Q1": queue, "Q2": queue, "M1": mapping("Q1"), "M2": mapping("Q2")}}
    items = [
        {
            "item": "SQS long polls by idle Lambda event sources (estimate)",
            "quantity": 1_314_000,
            "monthly_usd": 0.5256,
            "free_tier_credit_usd": 0.4,
        }
    ]

    found = cheapest_design(template, items, 3.5, 3, [], _prices(), target_usd=3.0)

    assert [s["family"] for s in found["steps"]] == ["sqs_event_sources"]
    assert found["end_usd"] == pytest.approx(3.5 - 0.2628)
    # The free tier covers at most what is left of the polling
    assert found["free_tier_credit_usd"] == pytest.approx(0.2628)


def test_the_rotation_table_in_the_key_scheme_is_the_one_the_prices_give() -> None:
    # Given the price file, when the table is computed, then docs/key-scheme.md shows it as is
    doc = (Path(__file__).parents[2] / "docs" / "key-scheme.md").read_text(encoding="utf-8")

    assert rotation_table(rotation_choices(Prices.load())) in doc


def test_given_a_readme_with_the_markers_when_written_then_only_the_block_changes() -> None:
    readme = f"intro\n{README_START}\nold table\n{README_END}\nrest\n"

    written = replace_readme_block(readme, ["| new |", "note"])

    assert written == f"intro\n{README_START}\n| new |\nnote\n{README_END}\nrest\n"
    assert replace_readme_block("no markers here\n", ["| new |"]) == "no markers here\n"
