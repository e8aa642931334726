"""Typed settings, parsed once per entry point from a mapping (Lambda: its environment).

The CDK constructs set the QUIETLINE_* variables; local mode, the CLI, tests and the bench
build a `Settings` for their own target instead (`Settings(...)` or `from_environ`), and
hand it to a `Container`. Nothing re-reads or rewrites the environment afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from functions.core.errors import QuietlineError

ENV_PREFIX = "QUIETLINE_"

Carrier = Literal["aws", "twilio", "simulated"]


class SettingsError(QuietlineError):
    """A setting is missing or invalid: one line naming the variable and the rule."""


class Settings(BaseModel):
    """Everything a function may be configured with; each entry point requires its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: Literal["aws", "local"] = "aws"
    table_name: str | None = None
    carrier: Carrier = "aws"
    outbound_queue_url: str | None = None
    retry_queue_url: str | None = None
    staff_topic_arn: str | None = None
    sms_configuration_set: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token_secret: str | None = None  # Secrets Manager id of the auth token
    twilio_api_base_url: str = "https://api.twilio.com"
    # The URL Twilio calls, when the API Gateway event can't tell it (custom domain, local).
    public_base_url: str | None = None
    # The webhook URLs exactly as configured in Twilio, queries included: the text Twilio
    # signs, which API Gateway's decoded query can't reproduce. Whitespace-separated.
    twilio_webhook_urls: tuple[str, ...] = ()
    user_pool_id: str | None = None
    # The inbox's app client: the staff API renews ID tokens with it (session routes).
    user_pool_client_id: str | None = None
    audit_table_name: str | None = None
    # HIPAA 164.316(b)(2): documentation (the audit trail) kept six years.
    audit_retention_days: int = Field(default=2190, ge=2190)
    # HIPAA 164.312(a)(2)(iii) automatic logoff, enforced server-side.
    idle_timeout_minutes: int = Field(default=15, ge=1, le=240)
    unusual_reads_per_15_minutes: int = Field(default=300, ge=1)  # breach early warning
    secure_link_base_url: str | None = None  # where clients open secure messages
    inbox_origin: str | None = None  # the one browser origin allowed to call the API (CORS)
    # Where staff type numbers without a country code: read as national numbers of this
    # region (ISO 3166-1 alpha-2, e.g. US). Carriers' numbers are always full E.164.
    # Only its shape is checked here, so parsing settings never loads phonenumbers (cold
    # start); infra/config.py checks it is a region phonenumbers knows.
    phone_region: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    # Voice (docs/voice.md): the bucket holding voicemail audio sealed under each tenant's
    # key (object keys are ids only), and the carrier's short-lived staging bucket where a
    # carrier cannot record under our key (Chime RecordAudio; objects expire within a day).
    voicemail_bucket: str | None = None
    voice_staging_bucket: str | None = None
    # Voicemail transcription (Amazon Transcribe): the bucket for staged audio and the
    # service's output, and the platform key both are encrypted under (docs/voice.md).
    transcription_bucket: str | None = None
    transcription_kms_key_id: str | None = None
    # Amazon Chime SDK PSTN audio: the SIP media application click-to-call dials through.
    chime_sip_media_application_id: str | None = None
    # Business numbers that carry calls but not texts (Chime SDK voice numbers on the AWS
    # carrier, space-separated): a conversation a call starts texts from another number.
    voice_only_numbers: tuple[str, ...] = ()
    # Live updates (docs/web.md): the WebSocket URL the inbox connects to (wss://...), and
    # the same API's management endpoint (https://...) where pushes are posted.
    live_socket_url: str | None = None
    live_management_url: str | None = None
    # Web Push (docs/web.md): the Secrets Manager id of the VAPID signing key (PEM), and
    # the contact push services see in its JWT (RFC 8292 `sub`: the alarm e-mail).
    web_push_vapid_secret: str | None = None
    web_push_subject: str | None = Field(default=None, pattern=r"^mailto:[^@\s]+@[^@\s]+$")

    @field_validator("twilio_webhook_urls", "voice_only_numbers", mode="before")
    @classmethod
    def _split_words(cls, value: object) -> object:
        return tuple(value.split()) if isinstance(value, str) else value

    @field_validator("voice_only_numbers")
    @classmethod
    def _e164_numbers(cls, numbers: tuple[str, ...]) -> tuple[str, ...]:
        if any(not re.fullmatch(r"\+[1-9]\d{6,14}", number) for number in numbers):
            raise ValueError("each must be an E.164 number")
        return numbers

    @field_validator("twilio_webhook_urls")
    @classmethod
    def _https_urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        if any(not url.startswith("https://") for url in urls):
            raise ValueError("each URL must start with https://")
        return urls

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, required: Iterable[str] = ()) -> Settings:
        """Parse QUIETLINE_<FIELD> variables; blank counts as unset. One-line errors."""
        values = {}
        for name in cls.model_fields:
            raw = environ.get(env_name(name), "").strip()
            if raw:
                values[name] = raw
        try:
            settings = cls.model_validate(values)
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "settings"
            raise SettingsError(f"{env_name(field)}: {first['msg']}") from None
        for name in required:
            settings.need(name)
        return settings

    def need(self, name: str) -> str:
        """A setting this code path cannot run without; its absence is one clear line."""
        value = getattr(self, name)
        if not value:
            raise SettingsError(f"{env_name(name)}: environment variable is not set")
        return str(value)


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


# The names the CDK constructs set, spelled once.
ENV_TABLE_NAME = env_name("table_name")
ENV_STAGE = env_name("stage")
ENV_CARRIER = env_name("carrier")
ENV_OUTBOUND_QUEUE_URL = env_name("outbound_queue_url")
ENV_RETRY_QUEUE_URL = env_name("retry_queue_url")
ENV_STAFF_TOPIC_ARN = env_name("staff_topic_arn")
ENV_SMS_CONFIGURATION_SET = env_name("sms_configuration_set")
ENV_TWILIO_ACCOUNT_SID = env_name("twilio_account_sid")
ENV_TWILIO_AUTH_TOKEN_SECRET = env_name("twilio_auth_token_secret")
ENV_TWILIO_API_BASE_URL = env_name("twilio_api_base_url")
ENV_PUBLIC_BASE_URL = env_name("public_base_url")
ENV_TWILIO_WEBHOOK_URLS = env_name("twilio_webhook_urls")
ENV_VOICE_ONLY_NUMBERS = env_name("voice_only_numbers")
ENV_USER_POOL_ID = env_name("user_pool_id")
ENV_USER_POOL_CLIENT_ID = env_name("user_pool_client_id")
ENV_AUDIT_TABLE_NAME = env_name("audit_table_name")
ENV_AUDIT_RETENTION_DAYS = env_name("audit_retention_days")
ENV_IDLE_TIMEOUT_MINUTES = env_name("idle_timeout_minutes")
ENV_UNUSUAL_READS_THRESHOLD = env_name("unusual_reads_per_15_minutes")
ENV_SECURE_LINK_BASE_URL = env_name("secure_link_base_url")
ENV_INBOX_ORIGIN = env_name("inbox_origin")
ENV_PHONE_REGION = env_name("phone_region")
ENV_VOICEMAIL_BUCKET = env_name("voicemail_bucket")
ENV_VOICE_STAGING_BUCKET = env_name("voice_staging_bucket")
ENV_TRANSCRIPTION_BUCKET = env_name("transcription_bucket")
ENV_TRANSCRIPTION_KMS_KEY_ID = env_name("transcription_kms_key_id")
ENV_CHIME_SIP_MEDIA_APPLICATION_ID = env_name("chime_sip_media_application_id")
ENV_LIVE_SOCKET_URL = env_name("live_socket_url")
ENV_LIVE_MANAGEMENT_URL = env_name("live_management_url")
ENV_WEB_PUSH_VAPID_SECRET = env_name("web_push_vapid_secret")
ENV_WEB_PUSH_SUBJECT = env_name("web_push_subject")
