"""The deployment configuration: defaults, and one clear line for every bad value."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infra.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config

pytestmark = pytest.mark.unit

VALID: dict[str, Any] = {
    "practice_name": "Harbor Counseling",
    "alarm_email": "security@harbor.example",
    "tenants": [
        {
            "id": "harbor",
            "display_name": "Harbor Counseling",
            "business_numbers": ["+12065550100"],
            "support_contact": "(206) 555-0100",
        }
    ],
}


def _with(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


_DELETE = object()


def test_the_shipped_config_file_is_valid() -> None:
    config = load_config(DEFAULT_CONFIG_PATH)
    assert config.carrier == "aws"
    assert config.tenants


def test_defaults_are_the_documented_ones() -> None:
    config = parse_config(VALID)
    assert config.carrier == "aws"
    assert config.message_retention_days == 2555
    assert config.audit_retention_days == 2190
    assert config.vpc.enabled is False
    assert config.waf.enabled is False
    assert config.retention_days(config.tenants[0]) == 2555


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("carrier", "sms", "carrier: Input should be 'aws' or 'twilio'"),
        ("alarm_email", _DELETE, "alarm_email: Field required"),
        ("tenants.0.id", "Harbor!", "tenants[0].id: String should match pattern"),
        (
            "tenants.0.business_numbers",
            ["2065550100"],
            "tenants[0].business_numbers: must be E.164",
        ),
        (
            "audit_retention_days",
            365,
            "audit_retention_days: Input should be greater than or equal to 2190",
        ),
        (
            "message_retention_days",
            0,
            "message_retention_days: Input should be greater than or equal to 1",
        ),
        ("account", "12345", "account: String should match pattern"),
        ("tenants", [], "tenants: List should have at least 1 item"),
        ("surprise", True, "surprise: Extra inputs are not permitted"),
        ("phone_region", "XX", "phone_region: must be a two-letter region code"),
        ("phone_region", "us", "phone_region: must be a two-letter region code"),
    ],
)
def test_a_bad_value_fails_in_one_line_naming_the_field(
    path: str, value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_with(path, value))
    message = str(caught.value)
    assert "\n" not in message
    assert expected in message


def test_the_phone_region_for_typed_numbers_defaults_to_us_and_is_not_the_aws_region() -> None:
    assert parse_config(VALID).phone_region == "US"
    config = parse_config({**VALID, "phone_region": "CA", "region": "ca-central-1"})
    assert (config.phone_region, config.region) == ("CA", "ca-central-1")


TWILIO_SID = "AC" + "0" * 32
BASE = "https://sms.harbor.example"


def _twilio(**twilio: Any) -> dict[str, Any]:
    return {**VALID, "carrier": "twilio", "twilio": {"account_sid": TWILIO_SID, **twilio}}


def test_webhook_urls_are_kept_exactly_as_written_in_the_twilio_console() -> None:
    urls = [
        f"{BASE}/webhooks/twilio/sms?next=/inbox&label=front%20desk&at=09:30&tag=a+b",
        f"{BASE}/webhooks/twilio/status?b=2&a=1&b=1",
    ]

    config = parse_config(_twilio(public_base_url=BASE, webhook_urls=urls))

    assert config.twilio is not None and config.twilio.webhook_urls == urls


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (["http://sms.harbor.example/webhooks/twilio/sms?a=1"], "must be https URLs"),
        (["https://user:pw@sms.harbor.example/webhooks/twilio/sms"], "without credentials"),
        ([f"{BASE}/webhooks/twilio/sms?a=1#frag"], "without a fragment or spaces"),
        ([f"{BASE}/webhooks/twilio/sms?a=front desk"], "without a fragment or spaces"),
        ([f"{BASE}/other?a=1"], "must end in /webhooks/twilio/sms or /webhooks/twilio/status"),
        (["https://elsewhere.example/webhooks/twilio/sms?a=1"], "must be public_base_url"),
        ([f"{BASE}/webhooks/twilio/sms?a=1"] * 2, "must not repeat a URL"),
    ],
)
def test_a_webhook_url_twilio_could_not_be_calling_us_at_fails_in_one_line(
    urls: list[str], expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_twilio(public_base_url=BASE, webhook_urls=urls))

    assert "twilio.webhook_urls: " in str(caught.value) and expected in str(caught.value)


def test_a_number_cannot_belong_to_two_tenants() -> None:
    data = copy.deepcopy(VALID)
    data["tenants"].append({**data["tenants"][0], "id": "cedar"})
    with pytest.raises(ConfigError, match="already belongs to tenant 'harbor'"):
        parse_config(data)


def test_missing_and_broken_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(VALID), encoding="utf-8")
    assert load_config(good).practice_name == "Harbor Counseling"
