"""CloudFormation custom resource for a Chime SDK SIP rule (ToPhoneNumber -> our SMA).

CloudFormation has no AWS::Chime::SipRule type; this Lambda is the resource's service
token directly (no Provider framework: it would add framework Lambdas whose runtime,
DLQ and concurrency we cannot set). It answers CloudFormation at the pre-signed
ResponseURL itself. Delete disables, then deletes (the API requires it). The phone number
is the practice's business voice number, not PHI; it is still never logged.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from functions.core.observability import logger

_NOT_FOUND = frozenset({"NotFoundException"})


def _rule_request(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Name": str(properties["Name"]),
        "TargetApplications": [
            {
                "SipMediaApplicationId": str(properties["SipMediaApplicationId"]),
                "Priority": 1,
                "AwsRegion": str(properties["AwsRegion"]),
            }
        ],
    }


def apply(client: Any, event: Mapping[str, Any]) -> str:
    """Create, update or delete the rule; the physical id is the SipRuleId."""
    kind = event["RequestType"]
    properties = event.get("ResourceProperties", {})
    if kind == "Create":
        return _create(client, properties)
    rule_id = str(event["PhysicalResourceId"])
    if kind == "Update":
        old = event.get("OldResourceProperties", {})
        if old.get("PhoneNumber") != properties.get("PhoneNumber"):
            return _create(client, properties)  # a new id: CloudFormation deletes the old
        client.update_sip_rule(SipRuleId=rule_id, Disabled=False, **_rule_request(properties))
        return rule_id
    try:
        client.update_sip_rule(SipRuleId=rule_id, Disabled=True, **_rule_request(properties))
        client.delete_sip_rule(SipRuleId=rule_id)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in _NOT_FOUND:
            raise
    return rule_id


def _create(client: Any, properties: Mapping[str, Any]) -> str:
    response = client.create_sip_rule(
        TriggerType="ToPhoneNumber",
        TriggerValue=str(properties["PhoneNumber"]),
        Disabled=False,
        **_rule_request(properties),
    )
    return str(response["SipRule"]["SipRuleId"])


def _respond(event: Mapping[str, Any], status: str, physical_id: str, reason: str) -> None:
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason,
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - CloudFormation's pre-signed https URL
        str(event["ResponseURL"]), data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - as above
        pass


def on_event(
    event: Mapping[str, Any],
    context: Any,
    *,
    client_factory: Callable[[], Any] = lambda: boto3.client("chime-sdk-voice"),
    respond: Callable[[Mapping[str, Any], str, str, str], None] = _respond,
) -> None:
    physical_id = str(event.get("PhysicalResourceId") or event.get("LogicalResourceId", "none"))
    try:
        physical_id = apply(client_factory(), event)
    except (ClientError, BotoCoreError, KeyError) as error:
        # The error's type and code only: the request holds the practice's number.
        code = error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else ""
        logger.error("sip rule change failed", extra={"error": type(error).__name__, "code": code})
        respond(event, "FAILED", physical_id, code or type(error).__name__)
        return
    respond(event, "SUCCESS", physical_id, "")
