"""Logger and metrics for every handler, with PHI redaction built into the logger.

Handlers never log bodies or numbers on purpose; the formatter is the safety net for
what slips through (an exception text, an `extra` field): it drops fields whose names
mean PHI and masks anything shaped like a phone number in every string it writes.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

SERVICE = "quietline"
METRICS_NAMESPACE = "Quietline"

# Field names whose values are PHI wherever they appear in a log record.
PHI_FIELD_NAMES = frozenset(
    {
        "body",
        "message_body",
        "messagebody",
        "text",
        "plaintext",
        "phone",
        "phone_number",
        "from",
        "to",
        "from_number",
        "to_number",
        "originationnumber",
        "destinationnumber",
        "destinationphonenumber",
        "originationphonenumber",
        "name",
        "display_name",
    }
)
_PHONE_SHAPES = re.compile(
    r"\+\d[\d\s().-]{6,18}\d"  # E.164 and its formatted variants
    r"|\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"  # NANP (206) 555-0142 / 206.555.0142
)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Return `value` with PHI-named fields dropped and phone-shaped text masked."""
    if isinstance(value, str):
        return _PHONE_SHAPES.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: REDACTED if str(k).lower() in PHI_FIELD_NAMES else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return redact(str(value))  # exceptions and other objects would be str()-ed anyway


class RedactingFormatter(LambdaPowertoolsFormatter):
    def serialize(self, log: Any) -> str:
        return super().serialize(redact(log))


def make_logger(name: str = SERVICE, handler: logging.Handler | None = None) -> Logger:
    # log_uncaught_exceptions: a crash is logged, through the redacting formatter.
    logger = Logger(
        service=name,
        logger_formatter=RedactingFormatter(),
        logger_handler=handler,
        log_uncaught_exceptions=True,
    )
    # Records must not also reach the root logger's handlers, which do not redact.
    logger._logger.propagate = False
    return logger


logger = make_logger()
# No Powertools Tracer: Lambda's active tracing records each invocation's segment without
# the X-Ray SDK, whose import alone cost more than boto3's (docs/architecture.md, Tracing).
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


class PowertoolsMetrics:
    """MetricsSink over Powertools EMF metrics; names only, no dimensions with PHI."""

    def count(self, name: str, value: int = 1) -> None:
        from aws_lambda_powertools.metrics import MetricUnit  # noqa: PLC0415 - keeps import light

        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
