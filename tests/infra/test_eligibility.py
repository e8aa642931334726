"""Every synthesized resource type is a HIPAA-eligible service or control plane."""

from __future__ import annotations

import pytest

from infra.eligibility import Category, IneligibleResourceError, classify
from tests.infra.conftest import Synthesized, resource_types

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]


def test_every_resource_type_of_the_app_is_on_the_allow_list(quietline: Synthesized) -> None:
    for resource_type in resource_types(quietline):
        assert classify(resource_type).reason


def test_every_resource_type_of_the_function_stacks_is_on_the_allow_list(
    function_stacks: Synthesized,
) -> None:
    # Includes the VPC (AWS::EC2::*) and the default-security-group custom resource.
    for resource_type in resource_types(function_stacks):
        assert classify(resource_type).reason


def test_an_unlisted_service_is_rejected() -> None:
    with pytest.raises(IneligibleResourceError, match=r"AWS::Lightsail::Instance"):
        classify("AWS::Lightsail::Instance")


def test_an_unlisted_type_of_a_partly_listed_service_is_rejected() -> None:
    # CloudWatch alarms are allowed by exact type; other CloudWatch types are not.
    with pytest.raises(IneligibleResourceError):
        classify("AWS::CloudWatch::InsightRule")


def test_a_prefix_does_not_match_a_longer_service_name() -> None:
    with pytest.raises(IneligibleResourceError):
        classify("AWS::SNSX::Topic")


@pytest.mark.parametrize(
    ("resource_type", "category"),
    [
        ("AWS::DynamoDB::Table", Category.PHI_ELIGIBLE),
        ("AWS::KMS::Key", Category.PHI_ELIGIBLE),
        ("AWS::SMSVOICE::PhoneNumber", Category.PHI_ELIGIBLE),
        ("AWS::IAM::Role", Category.CONTROL_PLANE),
        ("AWS::CloudWatch::Alarm", Category.CONTROL_PLANE),
        ("Custom::VpcRestrictDefaultSG", Category.CONTROL_PLANE),
    ],
)
def test_types_are_classified_by_what_they_may_hold(resource_type: str, category: Category) -> None:
    assert classify(resource_type).category is category
