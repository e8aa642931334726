"""Log retention: the configured audit retention, rounded up to a value CloudWatch accepts."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from infra.config import QuietlineConfig

# Day counts CloudWatch Logs accepts (the values behind RetentionDays), ascending.
_RETENTION_DAYS: tuple[tuple[int, logs.RetentionDays], ...] = (
    (365, logs.RetentionDays.ONE_YEAR),
    (400, logs.RetentionDays.THIRTEEN_MONTHS),
    (545, logs.RetentionDays.EIGHTEEN_MONTHS),
    (731, logs.RetentionDays.TWO_YEARS),
    (1096, logs.RetentionDays.THREE_YEARS),
    (1827, logs.RetentionDays.FIVE_YEARS),
    (2192, logs.RetentionDays.SIX_YEARS),
    (2557, logs.RetentionDays.SEVEN_YEARS),
    (2922, logs.RetentionDays.EIGHT_YEARS),
    (3288, logs.RetentionDays.NINE_YEARS),
    (3653, logs.RetentionDays.TEN_YEARS),
)


def retention_for(days: int) -> logs.RetentionDays:
    """The shortest accepted retention that keeps logs at least `days` days."""
    for accepted, retention in _RETENTION_DAYS:
        if accepted >= days:
            return retention
    raise ValueError(f"no CloudWatch Logs retention is {days} days or longer (max 3653)")


def audit_log_retention(config: QuietlineConfig) -> logs.RetentionDays:
    # 164.316(b)(2)(i): six years; config.audit_retention_days is validated >= 2190.
    return retention_for(config.audit_retention_days)
