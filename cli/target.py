"""Where the CLI acts: a deployed stack (its CloudFormation outputs) or local mode."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from infra.config import REPO_ROOT


class TargetError(Exception):
    """One line for the user: what is missing and how to get it."""


@dataclass(frozen=True)
class Target:
    name: str
    outputs: dict[str, str]

    def output(self, key: str) -> str:
        if key not in self.outputs:
            raise TargetError(f"{self.name} has no output {key} (is that part deployed?)")
        return self.outputs[key]


def local_target(state_file: Path | None = None) -> Target:
    """Local mode: point boto3 at its moto server, read names from .quietline/local.json."""
    path = state_file or REPO_ROOT / ".quietline" / "local.json"
    if not path.exists():
        raise TargetError(f"{path} not found: start local mode with `make run` first")
    state = json.loads(path.read_text(encoding="utf-8"))
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": state["aws_endpoint_url"],
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": state["region"],
        }
    )
    outputs = {
        "MessageTableName": state["table_name"],
        "AuditTableName": state["audit_table_name"],
        "UserPoolId": state["user_pool_id"],
        "OutboundQueueUrl": state["outbound_queue_url"],
        "RetryQueueUrl": state["retry_queue_url"],
        "OutboundDlqUrl": state["outbound_dlq_url"],
        "RetryDlqUrl": state["retry_dlq_url"],
    }
    return Target("local mode", outputs)


def stack_target(stack_name: str) -> Target:
    try:
        stacks = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot read stack {stack_name}: {type(error).__name__}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return Target(f"stack {stack_name}", outputs)
