"""The one allow-list of CloudFormation resource types Quietline may deploy.

HIPAA: every service that stores, processes or carries PHI must be on AWS's HIPAA
Eligible Services Reference (covered by the BAA). Control-plane types (IAM, CDK metadata,
custom resources, alarms) hold no PHI. A type on neither list fails the infra tests, so
adding a service means checking the AWS list first and writing the reason here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Category(Enum):
    PHI_ELIGIBLE = "HIPAA-eligible service that may store or carry PHI"
    CONTROL_PLANE = "control plane; processes no PHI"


@dataclass(frozen=True)
class Eligibility:
    category: Category
    reason: str


class IneligibleResourceError(Exception):
    """A resource type on neither list: check AWS's HIPAA eligible services first."""


def _phi(reason: str) -> Eligibility:
    return Eligibility(Category.PHI_ELIGIBLE, reason)


def _control(reason: str) -> Eligibility:
    return Eligibility(Category.CONTROL_PLANE, reason)


# Exact resource types: checked before the service prefixes below.
EXACT_TYPES: dict[str, Eligibility] = {
    "AWS::CDK::Metadata": _control("CDK version analytics; no customer data"),
    "Custom::ChimeSipRule": _control(
        "deploy-time Chime SDK SIP rule (business voice number -> the SIP media application);"
        " its Lambda holds no PHI"
    ),
    "AWS::CloudFormation::CustomResource": _control("deploy-time custom resource; no PHI"),
    "AWS::CloudWatch::Alarm": _control("alarm on metrics; dimensions never hold PHI"),
    "AWS::CloudWatch::Dashboard": _control("operations dashboard of metrics; no PHI"),
}

# Whole services, by the "AWS::Service::" prefix (or "Custom::").
SERVICE_PREFIXES: dict[str, Eligibility] = {
    "AWS::Lambda::": _phi(
        "AWS Lambda is HIPAA eligible: the handlers, their SQS and DynamoDB Streams event"
        " source mappings (the audit sealer's), invoke permissions and async invoke settings"
    ),
    "AWS::DynamoDB::": _phi(
        "Amazon DynamoDB (DynamoDB Streams included) is HIPAA eligible: the message store,"
        " the audit table and its stream"
    ),
    "AWS::KMS::": _phi("AWS KMS is HIPAA eligible: tenant and platform keys"),
    "AWS::SQS::": _phi("Amazon SQS is HIPAA eligible: outbound and retry queues, DLQs"),
    "AWS::SNS::": _phi(
        "Amazon SNS is HIPAA eligible: inbound SMS, staff notice and alarm topics, their"
        " subscriptions (Lambda, e-mail) and topic policies"
    ),
    "AWS::Logs::": _phi(
        "CloudWatch Logs is HIPAA eligible: function, flow, API, WAF and trail logs, and the"
        " metric filters that turn trail events into security alarms"
    ),
    "AWS::Backup::": _phi("AWS Backup is HIPAA eligible: backups of the message and audit tables"),
    "AWS::CloudTrail::": _phi(
        "AWS CloudTrail is HIPAA eligible: the trail of management (KMS included) and"
        " DynamoDB data events"
    ),
    "AWS::S3::": _phi(
        "Amazon S3 is HIPAA eligible: the trail's Object-Locked bucket, its access-log bucket"
        " and their bucket policies"
    ),
    "AWS::ApiGateway::": _phi(
        "API Gateway is HIPAA eligible: the staff API and the Twilio webhooks (REST API,"
        " stage, Cognito authorizer, gateway responses, request validator, account-level"
        " CloudWatch role setting)"
    ),
    "AWS::ApiGatewayV2::": _phi("API Gateway (HTTP APIs) is HIPAA eligible"),
    "AWS::Cognito::": _phi(
        "Amazon Cognito is HIPAA eligible: staff sign-in with MFA (user pool, app client,"
        " tenant groups)"
    ),
    "AWS::Events::": _phi(
        "Amazon EventBridge is HIPAA eligible: the sweeper schedule, delivery status events"
    ),
    "AWS::SecretsManager::": _phi("Secrets Manager is HIPAA eligible: the Twilio auth token"),
    "AWS::WAFv2::": _phi(
        "AWS WAF is HIPAA eligible: web ACL, its logging and association with the public APIs"
    ),
    "AWS::CloudFront::": _phi("Amazon CloudFront is HIPAA eligible: serves the web inbox"),
    "AWS::SMSVOICE::": _phi(
        "AWS End User Messaging SMS is HIPAA eligible (its voice channel is not: SMS only)"
    ),
    "AWS::StepFunctions::": _phi("AWS Step Functions is HIPAA eligible: workflows"),
    "AWS::Chime::": _phi(
        "Amazon Chime SDK is HIPAA eligible (listed as 'Amazon Chime SDK' on AWS's HIPAA"
        " Eligible Services Reference, aws.amazon.com/compliance/hipaa-eligible-services-"
        "reference; its generally available features, PSTN audio and SIP media applications"
        " included, are covered): the SIP media application that runs voice calls"
    ),
    "AWS::EC2::": _phi("Amazon VPC (EC2 networking) is HIPAA eligible: optional VPC"),
    "AWS::IAM::": _control("IAM roles and policies; no PHI"),
    "AWS::ApplicationAutoScaling::": _control("scaling settings; no PHI"),
    "Custom::": _control("CDK custom resources at deploy time; no PHI"),
}


def classify(resource_type: str) -> Eligibility:
    """The category and reason of a resource type; IneligibleResourceError if unlisted."""
    if resource_type in EXACT_TYPES:
        return EXACT_TYPES[resource_type]
    for prefix, eligibility in SERVICE_PREFIXES.items():
        if resource_type.startswith(prefix):
            return eligibility
    raise IneligibleResourceError(
        f"{resource_type} is not on the allow-list in infra/eligibility.py; check AWS's "
        "HIPAA Eligible Services Reference before adding it"
    )
