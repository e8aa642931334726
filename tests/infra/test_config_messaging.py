"""Configuration of two-way SMS: the twilio block, staff notification e-mails and the
End User Messaging configuration set. No synth: each bad value is one line naming its field."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import DEFAULT_CONFIG_PATH, load_config, parse_config
from tests.infra.conftest import CONFIG_SOURCE, config_data, config_error

pytestmark = pytest.mark.unit

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2


def test_twilio_carrier_without_twilio_block_fails_in_one_line_naming_the_field() -> None:
    message = config_error(config_data(carrier="twilio"))

    assert message.startswith(f'{CONFIG_SOURCE}: twilio: required when carrier is "twilio"')


def test_twilio_block_with_the_aws_carrier_is_refused() -> None:
    message = config_error(config_data(twilio={"account_sid": ACCOUNT_SID}))

    assert message.startswith(f'{CONFIG_SOURCE}: twilio: only used when carrier is "twilio"')


@pytest.mark.parametrize(
    "sid",
    ["AC123", "SK" + "0" * 32, "AC" + "0" * 31 + "G", "AC" + "A" * 32, "ac" + "0" * 32],
)
def test_account_sid_must_be_a_twilio_account_sid(sid: str) -> None:
    message = config_error(config_data(carrier="twilio", twilio={"account_sid": sid}))

    assert message.startswith(f"{CONFIG_SOURCE}: twilio.account_sid: String should match pattern")


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
    data = config_data(
        carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "public_base_url": url}
    )

    assert config_error(data).startswith(f"{CONFIG_SOURCE}: twilio.public_base_url:")


@pytest.mark.parametrize(
    "url", ["https://sms.harbor.example", "https://api.harbor.example/quietline"]
)
def test_a_custom_domain_base_url_is_accepted(url: str) -> None:
    config = parse_config(
        config_data(carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "public_base_url": url})
    )

    assert config.twilio is not None
    assert config.twilio.public_base_url == url


def test_twilio_block_needs_only_the_account_sid() -> None:
    config = parse_config(config_data(carrier="twilio", twilio={"account_sid": ACCOUNT_SID}))

    assert config.twilio is not None
    assert (config.twilio.account_sid, config.twilio.public_base_url) == (ACCOUNT_SID, None)


def test_auth_token_is_never_part_of_the_config() -> None:
    message = config_error(
        config_data(carrier="twilio", twilio={"account_sid": ACCOUNT_SID, "auth_token": "x" * 32})
    )

    assert message.startswith(f"{CONFIG_SOURCE}: twilio.auth_token: Extra inputs are not permitted")


def test_twilio_cannot_run_inside_the_isolated_vpc() -> None:
    message = config_error(
        config_data(carrier="twilio", twilio={"account_sid": ACCOUNT_SID}, vpc={"enabled": True})
    )

    assert message.startswith(f"{CONFIG_SOURCE}: twilio: cannot be used with vpc.enabled")


def test_new_fields_default_so_existing_config_files_stay_valid() -> None:
    config = parse_config(config_data())

    assert config.twilio is None
    assert config.staff_notification_emails == []
    assert config.sms_configuration_set is None


def test_the_shipped_config_file_is_still_valid() -> None:
    config = load_config(DEFAULT_CONFIG_PATH)

    assert config.carrier == "aws"
    assert config.twilio is None


def test_staff_notification_emails_are_kept_in_order() -> None:
    emails = ["frontdesk@harbor.example", "dr.lee@harbor.example"]

    assert parse_config(
        config_data(staff_notification_emails=emails)
    ).staff_notification_emails == (emails)


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
    assert config_error(config_data(staff_notification_emails=emails)).startswith(
        f"{CONFIG_SOURCE}: {expected}"
    )


@pytest.mark.parametrize("name", ["quietline", "Quietline_Events-1", "x" * 64])
def test_configuration_set_names_are_accepted(name: str) -> None:
    assert parse_config(config_data(sms_configuration_set=name)).sms_configuration_set == name


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "arn:aws:sms-voice:x"])
def test_bad_configuration_set_names_fail_naming_the_field(name: str) -> None:
    assert config_error(config_data(sms_configuration_set=name)).startswith(
        f"{CONFIG_SOURCE}: sms_configuration_set: String should match pattern"
    )


def test_configuration_set_is_refused_with_the_twilio_carrier() -> None:
    data = config_data(
        carrier="twilio",
        twilio={"account_sid": ACCOUNT_SID},
        sms_configuration_set="quietline",
    )

    assert config_error(data).startswith(
        f'{CONFIG_SOURCE}: sms_configuration_set: only used when carrier is "aws"'
    )
