"""The explicit runtime: settings parsed once with one-line errors, a container per entry
point that owns its services, and entry points bound to the container they are given."""

from __future__ import annotations

from typing import Any

import pytest

from functions.carriers.aws_sms import AwsSmsCarrier
from functions.carriers.twilio import TwilioCarrier
from functions.container import Container, Ports
from functions.core.errors import QuietlineError
from functions.core.settings import Settings, SettingsError
from functions.dal.aws import AwsClients, AwsTarget
from functions.handlers import sweeper
from functions.handlers._entry import EntryPoint
from local.apigw import LambdaContext
from local.sim_carrier import SimulatedCarrier

pytestmark = pytest.mark.unit

PLACES = {
    "QUIETLINE_TABLE_NAME": "quietline-test",
    "QUIETLINE_OUTBOUND_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/outbound",
}


# --- settings ----------------------------------------------------------------------------
def test_settings_are_read_from_quietline_variables_and_blank_counts_as_unset() -> None:
    settings = Settings.from_environ(
        {**PLACES, "QUIETLINE_IDLE_TIMEOUT_MINUTES": "30", "QUIETLINE_USER_POOL_ID": "  "}
    )
    assert settings.table_name == "quietline-test"
    assert settings.idle_timeout_minutes == 30
    assert settings.user_pool_id is None
    assert settings.audit_retention_days == 2190  # six years unless configured


def test_webhook_urls_are_read_whitespace_separated_and_kept_verbatim() -> None:
    sms = "https://sms.harbor.example/webhooks/twilio/sms?next=/a&label=front%20desk"
    status = "https://sms.harbor.example/webhooks/twilio/status?tag=a+b"

    settings = Settings.from_environ(
        {**PLACES, "QUIETLINE_TWILIO_WEBHOOK_URLS": f" {sms}\n{status} "}
    )

    assert settings.twilio_webhook_urls == (sms, status)


def test_the_phone_region_defaults_to_us_and_is_read_from_its_variable() -> None:
    assert Settings.from_environ(PLACES).phone_region == "US"
    assert Settings.from_environ({**PLACES, "QUIETLINE_PHONE_REGION": "GB"}).phone_region == "GB"


def test_a_missing_required_setting_is_one_line_naming_the_variable() -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ(PLACES, required=("table_name", "retry_queue_url"))
    assert str(raised.value) == "QUIETLINE_RETRY_QUEUE_URL: environment variable is not set"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("QUIETLINE_IDLE_TIMEOUT_MINUTES", "0"),
        ("QUIETLINE_IDLE_TIMEOUT_MINUTES", "241"),
        ("QUIETLINE_IDLE_TIMEOUT_MINUTES", "fifteen"),
        ("QUIETLINE_AUDIT_RETENTION_DAYS", "2189"),
        ("QUIETLINE_UNUSUAL_READS_PER_15_MINUTES", "0"),
        ("QUIETLINE_CARRIER", "pigeon"),
        ("QUIETLINE_STAGE", "prod"),
        ("QUIETLINE_PHONE_REGION", "usa"),
        ("QUIETLINE_TWILIO_WEBHOOK_URLS", "http://sms.harbor.example/webhooks/twilio/sms"),
    ],
)
def test_an_invalid_setting_names_the_variable_never_its_value(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({**PLACES, variable: value})
    message = str(raised.value)
    assert message.startswith(f"{variable}: ") and "\n" not in message
    assert value not in message.removeprefix(variable)


def test_settings_are_frozen_once_parsed() -> None:
    settings = Settings.from_environ(PLACES)
    with pytest.raises(ValueError, match="frozen"):
        settings.table_name = "another"  # type: ignore[misc]


# --- container ---------------------------------------------------------------------------
def _offline() -> AwsClients:
    # Clients are built lazily and make no call until used: nothing here reaches AWS.
    return AwsClients(AwsTarget(region="us-east-1", access_key_id="x", secret_access_key="y"))


def test_a_container_builds_each_service_once_and_shares_nothing_with_another() -> None:
    settings = Settings.from_environ(PLACES)
    first, second = Container(settings, clients=_offline()), Container(settings, clients=_offline())
    assert first.outbound_service() is first.outbound_service()
    assert first.store() is not second.store()
    assert first.clients.client("sqs") is not second.clients.client("sqs")


def test_the_carrier_follows_the_settings_unless_a_port_replaces_it() -> None:
    aws = Container(Settings(carrier="aws", sms_configuration_set="qs"), clients=_offline())
    assert isinstance(aws.carrier(), AwsSmsCarrier)
    twilio = Container(
        Settings(
            carrier="twilio",
            twilio_account_sid="AC" + "0" * 32,
            public_base_url="https://hooks.example",
        ),
        clients=_offline(),
        ports=Ports(twilio_auth_token="token"),
    )
    carrier = twilio.carrier()
    assert isinstance(carrier, TwilioCarrier)
    simulated = SimulatedCarrier()
    replaced = Container(
        Settings(carrier="aws"), clients=_offline(), ports=Ports(carrier=simulated)
    )
    assert replaced.carrier() is simulated


def test_a_service_whose_setting_is_missing_fails_in_one_line_when_first_built() -> None:
    runtime = Container(Settings(), clients=_offline())
    with pytest.raises(SettingsError, match=r"^QUIETLINE_TABLE_NAME: "):
        runtime.store()


# --- entry points --------------------------------------------------------------------------
def test_an_entry_point_refuses_a_container_without_what_its_code_requires() -> None:
    with pytest.raises(SettingsError, match=r"^QUIETLINE_OUTBOUND_QUEUE_URL: "):
        sweeper.handler.bound(Container(Settings(table_name="t"), clients=_offline()))


def test_an_entry_point_runs_its_handle_on_the_container_it_is_bound_to() -> None:
    seen: list[Any] = []
    entry = EntryPoint(lambda event, context, runtime: seen.append(runtime) or {"ok": True})
    one, two = (Container(Settings(), clients=_offline()) for _ in range(2))
    assert entry.bound(one)({}, LambdaContext("a")) == {"ok": True}
    entry.bound(two)({}, LambdaContext("b"))
    assert seen == [one, two]


def test_a_deployed_function_missing_a_variable_fails_its_first_call_in_one_line() -> None:
    with pytest.raises(SettingsError) as raised:
        sweeper.handler.from_environment({"QUIETLINE_TABLE_NAME": "t"})
    assert str(raised.value) == "QUIETLINE_OUTBOUND_QUEUE_URL: environment variable is not set"


def test_settings_errors_are_quietline_errors_the_cli_prints_as_one_line() -> None:
    assert issubclass(SettingsError, QuietlineError)
