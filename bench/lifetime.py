"""The idle cost over a deployment's life: KMS rotation charges by year, and the way to $3.

KMS bills a customer-managed key $1 a month, and each of its first two rotations adds $1 a
month more, prorated hourly; later rotations are free (bench/prices.json,
`kms_key_rotation_month`, with the page it was read on). A key that rotates every P days has
rotated floor(d / P) times on day d of its life, so its charge steps up at day P and day 2P
and then stays. `key_year_monthly_usd` averages that step function over one year of the
deployment exactly (the hourly proration makes the average the bill).

Each key's rotation period is read from the synthesized template (`RotationPeriodInDays`,
KMS's default 365 when rotation is on without one), so the model follows the infra.

`cheapest_design` prices, from the same template, the consolidations that would lower the
idle cost further (alarm metrics are billed one by one) and says whether they reach the
target; every figure comes from the template and the price file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.cost import Prices, referenced_type, resources

DAYS_PER_YEAR = 365
KMS_DEFAULT_ROTATION_DAYS = 365  # when EnableKeyRotation is true and no period is given
KMS_ROTATION_DAYS_RANGE = (90, 2560)
# Periods compared in docs/benchmarks.md and docs/key-scheme.md: the bounds, the default,
# and the usual policy choices in between.
ROTATION_CHOICES = (90, 180, 365, 730, 1095, 2560)
YEARS_SHOWN = (1, 2, 3)


@dataclass(frozen=True)
class KeyInfo:
    logical_id: str
    description: str
    rotation_days: int | None  # None: rotation off

    @property
    def tenant(self) -> bool:
        return "tenant" in self.description.lower()


def template_keys(template: Mapping[str, Any]) -> list[KeyInfo]:
    found = []
    for logical_id, key in resources(template, "AWS::KMS::Key").items():
        props = key.get("Properties", {})
        period = None
        if props.get("EnableKeyRotation") is True:
            period = int(props.get("RotationPeriodInDays") or KMS_DEFAULT_ROTATION_DAYS)
        description = props.get("Description")
        found.append(
            KeyInfo(logical_id, description if isinstance(description, str) else "", period)
        )
    return found


# --- one key ---------------------------------------------------------------------------------
def _rates(prices: Prices) -> tuple[float, float, int]:
    rotation = prices.data["prices"]["kms_key_rotation_month"]
    return (
        prices.usd("kms_key_month"),
        float(rotation["usd"]),
        int(rotation["billed_rotations_max"]),
    )


def rotations_by(day: float, period_days: int | None) -> int:
    """Rotations completed by `day` days after rotation was turned on (the first at day P)."""
    return 0 if period_days is None else int(day // period_days)


def key_monthly_usd(day: float, period_days: int | None, prices: Prices) -> float:
    base, per_rotation, cap = _rates(prices)
    return base + per_rotation * min(rotations_by(day, period_days), cap)


def key_year_monthly_usd(year: int, period_days: int | None, prices: Prices) -> float:
    """The key's average monthly charge over year `year` (1-based) of the deployment."""
    if year < 1:
        raise ValueError("years count from 1")
    base, per_rotation, cap = _rates(prices)
    start, end = DAYS_PER_YEAR * (year - 1), DAYS_PER_YEAR * year
    total, day = 0.0, float(start)
    while day < end:
        done = rotations_by(day, period_days)
        if period_days is None or done >= cap:
            step_end = float(end)
        else:
            step_end = min(float(end), float((done + 1) * period_days))
        total += (step_end - day) * (base + per_rotation * min(done, cap))
        day = step_end
    return total / DAYS_PER_YEAR


def rotation_choices(
    prices: Prices,
    periods: Iterable[int] = ROTATION_CHOICES,
    years: Sequence[int] = (1, 2, 3, 5, 8),
    horizon_years: int = 10,
) -> list[dict[str, Any]]:
    """What one tenant key costs a year under each rotation period, and over `horizon_years`."""
    rows = []
    for period in periods:
        low, high = KMS_ROTATION_DAYS_RANGE
        if not low <= period <= high:
            raise ValueError(f"KMS rotation periods run {low}-{high} days, not {period}")
        rows.append(
            {
                "period_days": period,
                "per_year_usd": {
                    str(y): 12 * key_year_monthly_usd(y, period, prices) for y in years
                },
                "horizon_years": horizon_years,
                "horizon_usd": sum(
                    12 * key_year_monthly_usd(y, period, prices)
                    for y in range(1, horizon_years + 1)
                ),
            }
        )
    return rows


# --- the deployment --------------------------------------------------------------------------
def idle_by_year(
    items: Sequence[Mapping[str, Any]],
    keys: Sequence[KeyInfo],
    prices: Prices,
    years: Sequence[int] = YEARS_SHOWN,
) -> list[dict[str, Any]]:
    """The idle monthly total in each year: the template's other fixed items (which do not
    change with age) plus every key at that year's rotation charge."""
    other = sum(i["monthly_usd"] for i in items if i["price_key"] != "kms_key_month")
    rows = []
    for year in years:
        per_key: list[dict[str, Any]] = [
            {
                "key": k.logical_id,
                "description": k.description,
                "tenant": k.tenant,
                "rotation_days": k.rotation_days,
                "monthly_usd": key_year_monthly_usd(year, k.rotation_days, prices),
            }
            for k in keys
        ]
        keys_usd = sum(float(k["monthly_usd"]) for k in per_key)
        rows.append(
            {
                "year": year,
                "keys_usd": keys_usd,
                "other_usd": other,
                "total_usd": keys_usd + other,
                "keys": per_key,
            }
        )
    return rows


# --- the way to the target -------------------------------------------------------------------
def _alarm_family(alarm: Mapping[str, Any]) -> str | None:
    props = alarm.get("Properties", {})
    namespace = str(props.get("Namespace", ""))
    metric = str(props.get("MetricName", ""))
    if props.get("Metrics"):
        return None
    if namespace == "AWS/SQS" and metric == "ApproximateNumberOfMessagesVisible":
        return "dead_letter_queues"
    if namespace.endswith("/Security"):
        return "security_metric_filters"
    if namespace and not namespace.startswith("AWS/"):
        return "application_failure_metrics"
    return None


# What each consolidation means, and what it gives up (printed beside its saving).
CONSOLIDATIONS: dict[str, str] = {
    "dead_letter_queues": "one shared dead-letter queue for every function and queue, one alarm "
    "(an alarm then says that something failed, and the message says what)",
    "security_metric_filters": "one CloudTrail metric filter whose pattern joins the security "
    "conditions, one alarm (the alarm no longer names which condition fired)",
    "application_failure_metrics": "the functions' failure counters published as one metric, "
    "one alarm (the log line, not the alarm, names the failure)",
    "sqs_event_sources": "one queue-driven worker: the queues its functions poll merged into one "
    "queue and one event source, which long-polls even when idle (the queues' separate "
    "retry and dead-letter settings become one)",
}


def alarm_families(template: Mapping[str, Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        family = _alarm_family(alarm)
        if family:
            counts[family] = counts.get(family, 0) + 1
    return counts


SQS_POLLS_ITEM = "SQS long polls by idle Lambda event sources (estimate)"
ALARM_ITEM = "CloudWatch alarm metrics"
ALARM_FREE_METRICS = 10  # prices.json cloudwatch_alarm_metric_month "free_tier"


def cheapest_design(
    template: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    year_total_usd: float,
    year: int,
    keys: Sequence[KeyInfo],
    prices: Prices,
    target_usd: float,
) -> dict[str, Any]:
    """The template's idle total in `year`, then each consolidation applied in turn, the
    rotation period's share (against KMS's default), and what the account's always-free
    tiers would still take off, judged against `target_usd`."""
    alarm_price = prices.usd("cloudwatch_alarm_metric_month")
    steps = []
    running = year_total_usd
    by_item = {i["item"]: i for i in items}
    polls = by_item.get(SQS_POLLS_ITEM)
    sources = len(
        [
            m
            for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
            if referenced_type(template, m.get("Properties", {}).get("EventSourceArn"))
            == "AWS::SQS::Queue"
        ]
    )
    alarms_left = float(by_item[ALARM_ITEM]["quantity"]) if ALARM_ITEM in by_item else 0.0
    for family, count in sorted(alarm_families(template).items()):
        if count < 2:
            continue
        saves = (count - 1) * alarm_price
        running -= saves
        alarms_left -= count - 1
        steps.append(
            {
                "family": family,
                "count_from": count,
                "count_to": 1,
                "saves_usd": saves,
                "total_after_usd": running,
                "what": CONSOLIDATIONS[family],
            }
        )
    polls_usd = float(polls["monthly_usd"]) if polls else 0.0
    if polls and sources > 1:
        saves = polls_usd * (sources - 1) / sources
        running -= saves
        polls_usd -= saves
        steps.append(
            {
                "family": "sqs_event_sources",
                "count_from": sources,
                "count_to": 1,
                "saves_usd": saves,
                "total_after_usd": running,
                "what": CONSOLIDATIONS["sqs_event_sources"],
            }
        )
    free_polls = min(polls_usd, float(polls["free_tier_credit_usd"])) if polls else 0.0
    free = min(alarms_left, ALARM_FREE_METRICS) * alarm_price + free_polls
    default_keys = sum(key_year_monthly_usd(year, KMS_DEFAULT_ROTATION_DAYS, prices) for _ in keys)
    chosen_keys = sum(key_year_monthly_usd(year, k.rotation_days, prices) for k in keys)
    return {
        "year": year,
        "target_usd": target_usd,
        "start_usd": year_total_usd,
        "steps": steps,
        "end_usd": running,
        "met_as_built": year_total_usd <= target_usd,
        "met_with_steps": running <= target_usd,
        "free_tier_credit_usd": free,
        "end_with_free_tiers_usd": running - free,
        "met_with_free_tiers": running - free <= target_usd,
        "keys_floor_usd": chosen_keys,
        "keys_at_default_rotation_usd": default_keys,
    }
