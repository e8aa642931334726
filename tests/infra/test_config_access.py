"""Configuration of staff access and audit: idle timeout, unusual-read threshold, the
inbox origin and the CloudTrail block. No synth: each bad value is one line naming its field."""

from __future__ import annotations

import pytest

from infra.config import parse_config
from tests.infra.conftest import CONFIG_SOURCE, config_data, config_error

pytestmark = pytest.mark.unit


# --- defaults --------------------------------------------------------------------------
def test_defaults_log_off_after_15_idle_minutes_and_deploy_a_governance_locked_trail() -> None:
    config = parse_config(config_data())

    assert config.idle_timeout_minutes == 15
    assert config.unusual_reads_per_15_minutes == 300
    assert config.inbox_origin is None
    assert config.cloudtrail.existing_trail is False
    assert config.cloudtrail.object_lock_mode == "GOVERNANCE"
    # HIPAA 164.316(b)(2)(i): six years.
    assert config.cloudtrail.object_lock_days == 2190


# --- idle timeout (164.312(a)(2)(iii) automatic logoff) -------------------------------------
@pytest.mark.parametrize("minutes", [1, 15, 240])
def test_idle_timeout_accepts_one_minute_to_four_hours(minutes: int) -> None:
    assert parse_config(config_data(idle_timeout_minutes=minutes)).idle_timeout_minutes == minutes


@pytest.mark.parametrize("minutes", [0, 241, -5])
def test_idle_timeout_outside_one_to_240_minutes_is_refused(minutes: int) -> None:
    assert config_error(config_data(idle_timeout_minutes=minutes)).startswith(
        f"{CONFIG_SOURCE}: idle_timeout_minutes:"
    )


def test_idle_timeout_range_is_the_one_the_api_settings_accept() -> None:
    # functions/core/settings.py api_settings() refuses anything outside 1..240.
    from infra.config import QuietlineConfig

    field = QuietlineConfig.model_fields["idle_timeout_minutes"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == (1, 240)


# --- unusual reads -------------------------------------------------------------------------
def test_unusual_read_threshold_must_be_positive() -> None:
    assert config_error(config_data(unusual_reads_per_15_minutes=0)).startswith(
        f"{CONFIG_SOURCE}: unusual_reads_per_15_minutes:"
    )
    assert (
        parse_config(config_data(unusual_reads_per_15_minutes=50)).unusual_reads_per_15_minutes
        == 50
    )


# --- inbox origin (CORS) -------------------------------------------------------------------
@pytest.mark.parametrize(
    "origin", ["https://inbox.harbor.example", "https://inbox.harbor.example:8443"]
)
def test_an_https_origin_is_accepted(origin: str) -> None:
    hosted_elsewhere = {"enabled": False}
    assert (
        parse_config(config_data(web=hosted_elsewhere, inbox_origin=origin)).inbox_origin == origin
    )


@pytest.mark.parametrize(
    "origin",
    [
        "*",  # never every origin
        "http://inbox.harbor.example",  # not https
        "https://inbox.harbor.example/",  # an origin has no path
        "https://inbox.harbor.example/app",
        "inbox.harbor.example",
        "https://*.harbor.example",
    ],
)
def test_inbox_origin_must_be_one_https_origin(origin: str) -> None:
    assert config_error(config_data(inbox_origin=origin)).startswith(
        f"{CONFIG_SOURCE}: inbox_origin:"
    )


def test_an_inbox_origin_conflicts_with_hosting_the_inbox_here() -> None:
    error = config_error(config_data(inbox_origin="https://inbox.harbor.example"))
    assert error.startswith(f"{CONFIG_SOURCE}: inbox_origin:") and "web.enabled" in error


# --- web hosting (S3 + CloudFront) ---------------------------------------------------------
def test_the_inbox_is_hosted_here_by_default_on_cloudfronts_domain() -> None:
    web = parse_config(config_data()).web
    assert web.enabled and web.domain_name is None and web.allowed_countries == []


def test_a_custom_domain_needs_its_us_east_1_certificate() -> None:
    certificate = (
        "arn:aws:acm:us-east-1:123456789012:certificate/" + "0" * 8 + "-1111-2222-3333-" + "4" * 12
    )
    web = {"domain_name": "inbox.harbor-counseling.example", "certificate_arn": certificate}
    assert parse_config(config_data(web=web)).web.domain_name == "inbox.harbor-counseling.example"
    alone = config_error(config_data(web={"domain_name": "inbox.harbor-counseling.example"}))
    assert alone.startswith(f"{CONFIG_SOURCE}: web:") and "certificate_arn" in alone
    elsewhere = certificate.replace("us-east-1", "eu-west-1")
    wrong_region = config_error(config_data(web={**web, "certificate_arn": elsewhere}))
    assert wrong_region.startswith(f"{CONFIG_SOURCE}: web.certificate_arn:")


@pytest.mark.parametrize(
    "domain", ["https://inbox.example", "inbox", "Inbox.Example.com", "a..b.com"]
)
def test_the_domain_is_a_bare_lowercase_host_name(domain: str) -> None:
    assert config_error(config_data(web={"domain_name": domain})).startswith(
        f"{CONFIG_SOURCE}: web.domain_name:"
    )


def test_countries_are_iso_codes() -> None:
    assert parse_config(
        config_data(web={"allowed_countries": ["US", "CA"]})
    ).web.allowed_countries == [
        "US",
        "CA",
    ]
    assert config_error(config_data(web={"allowed_countries": ["usa"]})).startswith(
        f"{CONFIG_SOURCE}: web.allowed_countries[0]:"
    )


# --- cloudtrail ---------------------------------------------------------------------------
def test_an_existing_organization_trail_can_replace_ours() -> None:
    config = parse_config(config_data(cloudtrail={"existing_trail": True}))

    assert config.cloudtrail.existing_trail is True


def test_compliance_mode_and_a_longer_lock_are_accepted() -> None:
    config = parse_config(
        config_data(cloudtrail={"object_lock_mode": "COMPLIANCE", "object_lock_days": 2555})
    )

    assert (config.cloudtrail.object_lock_mode, config.cloudtrail.object_lock_days) == (
        "COMPLIANCE",
        2555,
    )


@pytest.mark.parametrize("mode", ["governance", "LEGAL_HOLD", ""])
def test_object_lock_mode_is_governance_or_compliance(mode: str) -> None:
    message = config_error(config_data(cloudtrail={"object_lock_mode": mode}))

    assert message.startswith(f"{CONFIG_SOURCE}: cloudtrail.object_lock_mode:")


@pytest.mark.parametrize("days", [0, -1, 36501])
def test_object_lock_days_must_be_a_real_period(days: int) -> None:
    message = config_error(config_data(cloudtrail={"object_lock_days": days}))

    assert message.startswith(f"{CONFIG_SOURCE}: cloudtrail.object_lock_days:")


def test_unknown_cloudtrail_field_is_refused() -> None:
    message = config_error(config_data(cloudtrail={"existing_trail": False, "data_events": "all"}))

    assert message.startswith(f"{CONFIG_SOURCE}: cloudtrail.data_events:")
