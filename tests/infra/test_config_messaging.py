"""Configuration of two-way SMS: the twilio block, staff notification e-mails and the
End User Messaging configuration set. No synth: each bad value is one line naming its field."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import DEFAULT_CONFIG_PATH, ConfigError, load_config, parse_config
from tests.infra.conftest import TEST_CONFIG

pytestmark = pytest.mark.unit

SOURCE = "quietline.config.json"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def _config(**overrides: Any) -> dict[str, Any]:
    return {**copy.deepcopy(TEST_CONFIG), **overrides}


def _error(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(data, source=SOURCE)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_twilio_carrier_without_twilio_block_fails_in_one_line_naming_the_field() -> None:
    message = _error(_config(carrier="twilio"))

    assert message.startswith(f'{SOURCE}: twilio: required when carrier is "twilio"')


def test_twilio_block_with_the_aws_carrier_is_refused() -> None:
    message = _error(_config(twilio={"account_sid": ACCOUNT_SID}))

    assert message.startswith(f'{SOURCE}: twilio: only used when carrier is "twilio"')


@pytest.mark.parametrize(
    "sid",
    ["AC123", "SK" + "0" * 32, "AC" + "0" * 31 + "G", "AC" + "A" * 32, "ac" + "0" * 32],
)
def test_account_sid_must_be_a_twilio_account_sid(sid: str) -> None:
    message = _error(_config(carrier="twilio", twilio={"account_sid": sid}))

    assert message.startswith(f"{SOURCE}: twilio.account_sid: String should match pattern")


@pytest.mark.parametrize(
    "url",
    [
        "http://sms.harbor.example",  # not https
        "https://sms.harbor.example/",  # trailing slash: the signed URL would double it
        "https://sms.harbor.example/hooks?x=1",  # no query string
        "sms.harbor.example",
    ],
)
def test_public_base_url_must_be_an_https_base_without_query_or_trailing_slash(url: str) -> None:
    data = _config(carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "public_base_url": url})

    assert _error(data).startswith(f"{SOURCE}: twilio.public_base_url:")


@pytest.mark.parametrize(
    "url", ["https://sms.harbor.example", "https://api.harbor.example/quietline"]
)
def test_a_custom_domain_base_url_is_accepted(url: str) -> None:
    config = parse_config(
        _config(carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "public_base_url": url})
    )

    assert config.twilio is not None
    assert config.twilio.public_base_url == url


def test_twilio_block_needs_only_the_account_sid() -> None:
    config = parse_config(_config(carrier="twilio", twilio={"account_sid": ACCOUNT_SID}))

    assert config.twilio is not None
    assert (config.twilio.account_sid, config.twilio.public_base_url) == (ACCOUNT_SID, None)


def test_auth_token_is_never_part_of_the_config() -> None:
    message = _error(
        _config(carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "auth_token": "x" * 32})
    )

    assert message.startswith(f"{SOURCE}: twilio.auth_token: Extra inputs are not permitted")


def test_twilio_cannot_run_inside_the_isolated_vpc() -> None:
    message = _error(
        _config(carrier="twilio", twilio={"account_sid": ACCOUNT_SID}, vpc={"enabled": True})
    )

    assert message.startswith(f"{SOURCE}: twilio: cannot be used with vpc.enabled")


def test_new_fields_default_so_existing_config_files_stay_valid() -> None:
    config = parse_config(_config())

    assert config.twilio is None
    assert config.staff_notification_emails == []
    assert config.sms_configuration_set is None


def test_the_shipped_config_file_is_still_valid() -> None:
    config = load_config(DEFAULT_CONFIG_PATH)

    assert config.carrier == "aws"
    assert config.twilio is None


def test_staff_notification_emails_are_kept_in_order() -> None:
    emails = ["frontdesk@harbor.example", "dr.lee@harbor.example"]

    assert parse_config(_config(staff_notification_emails=emails)).staff_notification_emails == (
        emails
    )


@pytest.mark.parametrize(
    ("emails", "expected"),
    [
        (["not-an-address"], "staff_notification_emails[0]: String should match pattern"),
        (
            ["a@harbor.example", "A@harbor.example"],
            "staff_notification_emails: must not repeat an address",
        ),
        ("a@harbor.example", "staff_notification_emails: Input should be a valid list"),
    ],
)
def test_bad_staff_notification_emails_fail_naming_the_field(emails: Any, expected: str) -> None:
    assert _error(_config(staff_notification_emails=emails)).startswith(f"{SOURCE}: {expected}")


@pytest.mark.parametrize("name", ["quietline", "Quietline_Events-1", "x" * 64])
def test_configuration_set_names_are_accepted(name: str) -> None:
    assert parse_config(_config(sms_configuration_set=name)).sms_configuration_set == name


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "arn:aws:sms-voice:x"])
def test_bad_configuration_set_names_fail_naming_the_field(name: str) -> None:
    assert _error(_config(sms_configuration_set=name)).startswith(
        f"{SOURCE}: sms_configuration_set: String should match pattern"
    )


def test_configuration_set_is_refused_with_the_twilio_carrier() -> None:
    data = _config(
        carrier="twilio",
        twilio={"account_sid": ACCOUNT_SID},
        sms_configuration_set="quietline",
    )

    assert _error(data).startswith(
        f'{SOURCE}: sms_configuration_set: only used when carrier is "aws"'
    )
