"""The deployment configuration: one typed, validated object handed to every construct.

Read from `quietline.config.json` (or the file named by the `config` CDK context /
`QUIETLINE_CONFIG` environment variable). A bad value fails synth with one line naming
the field and what is allowed. docs/configuration.md is the reference for every field.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from functions.carriers.twilio import SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH
from functions.core.errors import InvalidPhoneNumberError
from functions.core.phone import is_region, require_e164
from functions.dal.schema import KEY_ROTATION_DAYS
from functions.logic.tenants import TenantSpec

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "quietline.config.json"

TenantId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")]
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)]

# HIPAA 164.316(b)(2)(i): documentation is kept six years; audit logs follow it.
MIN_AUDIT_RETENTION_DAYS = 2190


class ConfigError(Exception):
    """One line: which field, what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantConfig(_Strict):
    id: TenantId
    display_name: str = Field(min_length=1, max_length=80)
    business_numbers: list[str] = Field(min_length=1)
    # Shown in the HELP reply: a phone number or https URL clients can reach the practice at.
    support_contact: str = Field(min_length=3, max_length=120)
    message_retention_days: int | None = Field(default=None, ge=1, le=3650)

    @field_validator("business_numbers")
    @classmethod
    def _e164(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            try:
                require_e164(number, field="business_numbers")
            except InvalidPhoneNumberError:
                raise ValueError("must be E.164 numbers (+, country code, number)") from None
        if len(set(numbers)) != len(numbers):
            raise ValueError("must not repeat a number")
        return numbers


class VpcConfig(_Strict):
    """Lambdas in private subnets with VPC endpoints: ~$7/month per endpoint per AZ."""

    enabled: bool = False
    cidr: str = "10.42.0.0/16"
    max_azs: int = Field(default=2, ge=1, le=3)


class WafConfig(_Strict):
    """AWS WAF on the public APIs: ~$5/month per web ACL plus $1 per rule."""

    enabled: bool = False
    requests_per_5_minutes_per_ip: int = Field(default=1000, ge=100, le=2_000_000)


class TwilioConfig(_Strict):
    """Twilio Programmable Messaging (carrier "twilio"). The auth token is never in this
    file: it lives in the stack's Secrets Manager secret (output TwilioAuthTokenSecretArn)."""

    account_sid: str = Field(pattern=r"^AC[0-9a-f]{32}$")
    # The https base URL Twilio calls when a custom domain fronts the webhook API (the
    # URL Twilio signs). Unset: the stage's execute-api URL is used.
    public_base_url: str | None = Field(
        default=None, pattern=r"^https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~-]+)*$"
    )
    # Only for a webhook URL with a query string: each such URL exactly as it is entered in
    # the Twilio console. Twilio signs that exact text, and API Gateway passes the query
    # on only decoded and unordered, so the webhook cannot rebuild it (docs/carriers.md).
    webhook_urls: list[Annotated[str, Field(max_length=400)]] = Field(
        default_factory=list, max_length=8
    )

    @field_validator("webhook_urls")
    @classmethod
    def _console_urls(cls, urls: list[str], info: ValidationInfo) -> list[str]:
        base = info.data.get("public_base_url")
        routes = {f"{base}{path}" for path in (SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH)}
        for url in urls:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme != "https" or not parts.hostname or parts.username is not None:
                raise ValueError("must be https URLs without credentials")
            if parts.fragment or any(c.isspace() for c in url):
                raise ValueError("must be URLs without a fragment or spaces (%20 instead)")
            if not parts.path.endswith((SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH)):
                raise ValueError(
                    f"must end in {SMS_WEBHOOK_PATH} or {STATUS_WEBHOOK_PATH} (before any query)"
                )
            if base and url.split("?", 1)[0] not in routes:
                raise ValueError("must be public_base_url followed by a webhook path")
        if len(set(urls)) != len(urls):
            raise ValueError("must not repeat a URL")
        return urls


class WebConfig(_Strict):
    """The web inbox on S3 + CloudFront: billed per request and GB, no fixed monthly cost."""

    enabled: bool = True
    # A custom domain for the inbox and the clients' secure links (e.g.
    # inbox.harbor-counseling.example), with its ACM certificate, which CloudFront
    # requires in us-east-1. Unset: https://<distribution>.cloudfront.net.
    domain_name: str | None = Field(
        default=None,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    )
    certificate_arn: str | None = Field(
        default=None, pattern=r"^arn:aws:acm:us-east-1:\d{12}:certificate/[0-9a-f-]{36}$"
    )
    # Countries (ISO 3166-1 alpha-2) the inbox and secure links may be opened from.
    # Empty: anywhere (a client travelling abroad can still open a secure link).
    allowed_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(
        default_factory=list, max_length=250
    )

    @model_validator(mode="after")
    def _domain_with_certificate(self) -> WebConfig:
        if (self.domain_name is None) != (self.certificate_arn is None):
            raise ValueError("domain_name and certificate_arn go together (give both or neither)")
        return self


class CloudTrailConfig(_Strict):
    """The account's CloudTrail trail (164.312(b) audit controls). The first trail's
    management events are free (a second trail in the account pays $2 per 100,000);
    DynamoDB data events cost $0.10 per 100,000, plus S3 and CloudWatch Logs storage."""

    # True when the practice's organization already records this account with its own
    # trail: then no trail is deployed here, and logging data events on the message and
    # audit tables (and alarming on them) is that trail's job.
    existing_trail: bool = False
    # Object Lock on the trail bucket: GOVERNANCE lets a user with
    # s3:BypassGovernanceRetention remove a log file early (a mistaken upload, a legal
    # instruction); COMPLIANCE cannot be shortened or lifted by anyone, not even the
    # account root, until each file's retention ends. COMPLIANCE is the stronger
    # guarantee, and an irreversible one: the practice chooses it deliberately.
    object_lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = "GOVERNANCE"
    # How long each delivered log file is locked; 2190 days = HIPAA's six years.
    object_lock_days: int = Field(default=MIN_AUDIT_RETENTION_DAYS, ge=1, le=36500)


class VoiceConfig(_Strict):
    """Calls and voicemail on the configured carrier (docs/voice.md). Off by default:
    nothing is deployed and nothing costs until it is turned on.

    `numbers` are the practice's voice numbers, each listed under a tenant's
    business_numbers so calls find their practice. Carrier "aws": Amazon Chime SDK PSTN
    audio; the numbers are ordered or ported into the Chime SDK inventory outside the stack
    (product type SipMediaApplicationDialIn; `quietline numbers voice` prints the steps), and
    since an End User Messaging SMS number cannot take Chime calls, a practice on the AWS
    carrier has a second number for voice. Carrier "twilio": Programmable Voice; a Twilio
    number carries SMS and voice, so these may be the very numbers that text (their Voice
    URL is set to the stack's TwilioVoiceWebhookUrl output).
    """

    enabled: bool = False
    numbers: list[str] = Field(default_factory=list, max_length=25)

    @field_validator("numbers")
    @classmethod
    def _e164(cls, numbers: list[str]) -> list[str]:
        for number in numbers:
            try:
                require_e164(number, field="numbers")
            except InvalidPhoneNumberError:
                raise ValueError("must be E.164 numbers (+, country code, number)") from None
        if len(set(numbers)) != len(numbers):
            raise ValueError("must not repeat a number")
        return numbers

    @model_validator(mode="after")
    def _numbers_when_enabled(self) -> VoiceConfig:
        if self.enabled and not self.numbers:
            raise ValueError("enabled voice needs at least one number (voice.numbers)")
        return self


class QuietlineConfig(_Strict):
    practice_name: str = Field(min_length=1, max_length=80)
    stack_name: str = Field(default="Quietline", pattern=r"^[A-Za-z][A-Za-z0-9-]{0,100}$")
    account: str | None = Field(default=None, pattern=r"^\d{12}$")
    region: str = Field(default="us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    tenants: list[TenantConfig] = Field(min_length=1)
    # Where staff type client numbers without a country code (inbox, contact import, CLI):
    # read as national numbers of this region (ISO 3166-1 alpha-2). Not the AWS `region`.
    phone_region: str = "US"
    carrier: Literal["aws", "twilio"] = "aws"
    message_retention_days: int = Field(default=2555, ge=1, le=3650)
    audit_retention_days: int = Field(
        default=MIN_AUDIT_RETENTION_DAYS, ge=MIN_AUDIT_RETENTION_DAYS, le=3653
    )
    # Automatic rotation period of every customer-managed key (KMS allows 90-2,560 days).
    # The default is the longest: docs/key-scheme.md "Rotation" argues it and prices each
    # choice; a practice whose policy asks for yearly rotation sets 365.
    key_rotation_days: int = Field(default=KEY_ROTATION_DAYS, ge=90, le=2560)
    alarm_email: Email
    # LambdaConcurrency (HIPAA): reserved concurrency per function. New accounts can have
    # a concurrency quota as low as 10; lower this (or raise the quota) if deploy fails.
    lambda_reserved_concurrency: int = Field(default=5, ge=1, le=1000)
    vpc: VpcConfig = VpcConfig()
    waf: WafConfig = WafConfig()
    # Required exactly when carrier is "twilio" (validate_default: checked when absent).
    twilio: TwilioConfig | None = Field(default=None, validate_default=True)
    # Who gets "New message in Quietline" e-mails: they name the practice, never the
    # client, the number or the text (no PHI in e-mail). Each address confirms once.
    staff_notification_emails: list[Email] = Field(default_factory=list, max_length=50)
    # An existing End User Messaging configuration set (carrier "aws") to send with,
    # e.g. for its event destinations or protect configuration.
    sms_configuration_set: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    # 164.312(a)(2)(iii) automatic logoff: the staff API refuses a session idle this long.
    idle_timeout_minutes: int = Field(default=15, ge=1, le=240)
    # Breach early warning: one user reading more PHI records than this in 15 minutes
    # raises the UnusualReadVolume alarm and an audit event.
    unusual_reads_per_15_minutes: int = Field(default=300, ge=1, le=1_000_000)
    cloudtrail: CloudTrailConfig = CloudTrailConfig()
    # The web inbox hosted by this stack (S3 + CloudFront); see WebConfig.
    web: WebConfig = WebConfig()
    # Calls and voicemail through the carrier (Chime SDK or Twilio Voice); see VoiceConfig.
    voice: VoiceConfig = VoiceConfig()
    # Only for an inbox hosted elsewhere (web.enabled false): its origin
    # (scheme://host[:port], no path), the only origin the staff API answers cross-origin
    # requests from and the base of secure links. With web.enabled it is the distribution's.
    inbox_origin: str | None = Field(
        default=None, pattern=r"^https://[A-Za-z0-9.-]+(:\d{1,5})?$", max_length=253
    )

    @field_validator("inbox_origin")
    @classmethod
    def _inbox_origin_only_when_hosted_elsewhere(
        cls, origin: str | None, info: ValidationInfo
    ) -> str | None:
        web = info.data.get("web")
        if origin is not None and web is not None and web.enabled:
            raise ValueError(
                "is for an inbox hosted elsewhere; with web.enabled the inbox's origin is"
                " the CloudFront distribution's (or web.domain_name): remove one of them"
            )
        return origin

    @field_validator("phone_region")
    @classmethod
    def _known_phone_region(cls, region: str) -> str:
        if not is_region(region):
            raise ValueError("must be a two-letter region code such as US, CA or GB")
        return region

    @field_validator("twilio")
    @classmethod
    def _twilio_with_its_carrier(
        cls, twilio: TwilioConfig | None, info: ValidationInfo
    ) -> TwilioConfig | None:
        carrier = info.data.get("carrier")
        if carrier == "twilio" and twilio is None:
            raise ValueError('required when carrier is "twilio" (give at least account_sid)')
        if carrier == "aws" and twilio is not None:
            raise ValueError('only used when carrier is "twilio"; remove it or change carrier')
        vpc = info.data.get("vpc")
        if twilio is not None and vpc is not None and vpc.enabled:
            # The VPC's subnets are isolated (no NAT): the sender could not call Twilio.
            raise ValueError("cannot be used with vpc.enabled: the VPC has no route to Twilio")
        return twilio

    @field_validator("sms_configuration_set")
    @classmethod
    def _configuration_set_with_aws(cls, name: str | None, info: ValidationInfo) -> str | None:
        if name is not None and info.data.get("carrier") == "twilio":
            raise ValueError('only used when carrier is "aws" (End User Messaging)')
        return name

    @field_validator("staff_notification_emails")
    @classmethod
    def _distinct_emails(cls, emails: list[str]) -> list[str]:
        if len({email.lower() for email in emails}) != len(emails):
            raise ValueError("must not repeat an address")
        return emails

    @model_validator(mode="after")
    def _numbers_unique_across_tenants(self) -> QuietlineConfig:
        seen: dict[str, str] = {}
        ids: set[str] = set()
        for tenant in self.tenants:
            if tenant.id in ids:
                raise ValueError(f"tenant id '{tenant.id}' is used twice")
            ids.add(tenant.id)
            for number in tenant.business_numbers:
                if number in seen:
                    raise ValueError(
                        f"business number of tenant '{tenant.id}' already belongs to "
                        f"tenant '{seen[number]}'"
                    )
                seen[number] = tenant.id
        return self

    @model_validator(mode="after")
    def _voice_numbers_belong_to_tenants(self) -> QuietlineConfig:
        if not self.voice.enabled:
            return self
        known = {n for t in self.tenants for n in t.business_numbers}
        if any(number not in known for number in self.voice.numbers):
            raise ValueError("voice.numbers: each must be a tenant's business number")
        return self

    def tenant(self, tenant_id: str) -> TenantConfig:
        for tenant in self.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise KeyError(tenant_id)

    def retention_days(self, tenant: TenantConfig) -> int:
        return tenant.message_retention_days or self.message_retention_days

    def tenant_specs(self) -> list[TenantSpec]:
        """What provisioning writes to the table for each configured tenant."""
        return [
            TenantSpec(
                t.id,
                t.display_name,
                t.support_contact,
                self.retention_days(t),
                tuple(t.business_numbers),
            )
            for t in self.tenants
        ]


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    message = re.sub(r"^Value error, ", "", first["msg"])
    return f"{_field_path(tuple(first['loc']))}: {message}"


def parse_config(data: object, *, source: str = "configuration") -> QuietlineConfig:
    try:
        return QuietlineConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(f"{source}: {_one_line(error)}") from None


def load_config(path: str | Path | None = None) -> QuietlineConfig:
    """Load and validate the configuration file; raise ConfigError in one line."""
    resolved = Path(path or os.environ.get("QUIETLINE_CONFIG") or DEFAULT_CONFIG_PATH)
    try:
        data = json.loads(resolved.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{resolved}: file not found") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{resolved.name}: not valid JSON (line {error.lineno})") from None
    return parse_config(data, source=resolved.name)
