"""Typed settings read from the environment on first use (never at import time).

The CDK constructs and local mode set these variables; the ENV_* names are the contract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from functions.core.errors import ValidationError

ENV_TABLE_NAME = "QUIETLINE_TABLE_NAME"
ENV_STAGE = "QUIETLINE_STAGE"
ENV_CARRIER = "QUIETLINE_CARRIER"
ENV_OUTBOUND_QUEUE_URL = "QUIETLINE_OUTBOUND_QUEUE_URL"
ENV_STAFF_TOPIC_ARN = "QUIETLINE_STAFF_TOPIC_ARN"
ENV_SMS_CONFIGURATION_SET = "QUIETLINE_SMS_CONFIGURATION_SET"
ENV_TWILIO_ACCOUNT_SID = "QUIETLINE_TWILIO_ACCOUNT_SID"
ENV_TWILIO_AUTH_TOKEN_SECRET = "QUIETLINE_TWILIO_AUTH_TOKEN_SECRET"  # noqa: S105 - a name
ENV_TWILIO_API_BASE_URL = "QUIETLINE_TWILIO_API_BASE_URL"
ENV_PUBLIC_BASE_URL = "QUIETLINE_PUBLIC_BASE_URL"
ENV_RETRY_QUEUE_URL = "QUIETLINE_RETRY_QUEUE_URL"
ENV_USER_POOL_ID = "QUIETLINE_USER_POOL_ID"
ENV_AUDIT_TABLE_NAME = "QUIETLINE_AUDIT_TABLE_NAME"
ENV_AUDIT_RETENTION_DAYS = "QUIETLINE_AUDIT_RETENTION_DAYS"
ENV_UNUSUAL_READS_THRESHOLD = "QUIETLINE_UNUSUAL_READS_PER_15_MINUTES"
ENV_SECURE_LINK_BASE_URL = "QUIETLINE_SECURE_LINK_BASE_URL"
ENV_INBOX_ORIGIN = "QUIETLINE_INBOX_ORIGIN"
ENV_IDLE_TIMEOUT_MINUTES = "QUIETLINE_IDLE_TIMEOUT_MINUTES"

CARRIERS = ("aws", "twilio", "simulated")


@dataclass(frozen=True)
class CoreSettings:
    table_name: str
    stage: str  # "aws" when deployed, "local" under make run


@dataclass(frozen=True)
class MessagingSettings:
    carrier: str
    outbound_queue_url: str
    staff_topic_arn: str
    sms_configuration_set: str | None
    twilio_account_sid: str | None
    twilio_auth_token_secret: str | None  # Secrets Manager id of the auth token
    twilio_api_base_url: str
    # The URL Twilio calls, when it is not derivable from the API Gateway event
    # (a custom domain, or local mode).
    public_base_url: str | None


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ValidationError(name, "environment variable is not set")
    return value


def _optional(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None


@cache
def core_settings() -> CoreSettings:
    return CoreSettings(
        table_name=_required(ENV_TABLE_NAME), stage=os.environ.get(ENV_STAGE, "aws")
    )


@cache
def messaging_settings() -> MessagingSettings:
    carrier = os.environ.get(ENV_CARRIER, "aws").strip()
    if carrier not in CARRIERS:
        raise ValidationError(ENV_CARRIER, f"must be one of {', '.join(CARRIERS)}")
    return MessagingSettings(
        carrier=carrier,
        outbound_queue_url=_required(ENV_OUTBOUND_QUEUE_URL),
        staff_topic_arn=_optional(ENV_STAFF_TOPIC_ARN) or "",
        sms_configuration_set=_optional(ENV_SMS_CONFIGURATION_SET),
        twilio_account_sid=_optional(ENV_TWILIO_ACCOUNT_SID),
        twilio_auth_token_secret=_optional(ENV_TWILIO_AUTH_TOKEN_SECRET),
        twilio_api_base_url=_optional(ENV_TWILIO_API_BASE_URL) or "https://api.twilio.com",
        public_base_url=_optional(ENV_PUBLIC_BASE_URL),
    )


@cache
def retry_queue_url() -> str:
    return _required(ENV_RETRY_QUEUE_URL)


@dataclass(frozen=True)
class ApiSettings:
    user_pool_id: str
    idle_timeout_minutes: int  # HIPAA automatic logoff, enforced server-side
    unusual_reads_per_15_minutes: int  # breach early-warning threshold per user


@cache
def api_settings() -> ApiSettings:
    raw = os.environ.get(ENV_IDLE_TIMEOUT_MINUTES, "15").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 240:
        raise ValidationError(ENV_IDLE_TIMEOUT_MINUTES, "must be 1 to 240 minutes")
    reads = os.environ.get(ENV_UNUSUAL_READS_THRESHOLD, "300").strip()
    if not reads.isdigit() or int(reads) < 1:
        raise ValidationError(ENV_UNUSUAL_READS_THRESHOLD, "must be a positive number")
    return ApiSettings(
        user_pool_id=_required(ENV_USER_POOL_ID),
        idle_timeout_minutes=int(raw),
        unusual_reads_per_15_minutes=int(reads),
    )


@dataclass(frozen=True)
class AuditSettings:
    table_name: str
    retention_days: int


@cache
def audit_settings() -> AuditSettings:
    raw = os.environ.get(ENV_AUDIT_RETENTION_DAYS, "2190").strip()
    if not raw.isdigit() or int(raw) < 2190:
        raise ValidationError(ENV_AUDIT_RETENTION_DAYS, "must be at least 2190 days (6 years)")
    return AuditSettings(table_name=_required(ENV_AUDIT_TABLE_NAME), retention_days=int(raw))


@cache
def secure_link_base_url() -> str:
    """Where clients open secure messages (the inbox's public origin)."""
    return _required(ENV_SECURE_LINK_BASE_URL)


@cache
def inbox_origin() -> str | None:
    """The one browser origin allowed to call the API (CORS); None when the inbox is same-origin."""
    return _optional(ENV_INBOX_ORIGIN)
