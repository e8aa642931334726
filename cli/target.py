"""Where the CLI acts: a deployed stack (its CloudFormation outputs) or local mode.

A target carries its own AWS clients (an explicit endpoint and credentials for local
mode, the caller's default chain for a stack) and builds the functions' container for
itself: nothing is pointed anywhere by rewriting the process environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.container import Container
from functions.core.settings import Settings
from functions.dal.aws import AwsClients, AwsTarget
from infra.config import REPO_ROOT, QuietlineConfig

# Stack output -> the setting the functions read from it.
_SETTINGS_FROM_OUTPUTS = {
    "MessageTableName": "table_name",
    "AuditTableName": "audit_table_name",
    "UserPoolId": "user_pool_id",
    "OutboundQueueUrl": "outbound_queue_url",
}


class TargetError(Exception):
    """One line for the user: what is missing and how to get it."""


class Target:
    def __init__(self, name: str, outputs: dict[str, str], aws: AwsTarget | None = None) -> None:
        self.name = name
        self.outputs = outputs
        self.clients = AwsClients(aws)
        self._container: Container | None = None

    def output(self, key: str) -> str:
        if key not in self.outputs:
            raise TargetError(f"{self.name} has no output {key} (is that part deployed?)")
        return self.outputs[key]

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    def table(self, output_key: str) -> Any:
        return self.clients.table(self.output(output_key))

    def container(self, config: QuietlineConfig) -> Container:
        """The functions' services, configured as the target's own Lambdas are."""
        if self._container is None:
            values: dict[str, Any] = {
                setting: self.outputs[output]
                for output, setting in _SETTINGS_FROM_OUTPUTS.items()
                if output in self.outputs
            }
            settings = Settings(
                audit_retention_days=config.audit_retention_days,
                phone_region=config.phone_region,
                **values,
            )
            self._container = Container(settings, clients=self.clients)
        return self._container


def local_target(state_file: Path | None = None) -> Target:
    """Local mode: its moto server, with the names in .quietline/local.json."""
    state_dir = os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline"
    path = state_file or Path(state_dir) / "local.json"
    if not path.exists():
        raise TargetError(f"{path} not found: start local mode with `make run` first")
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        aws = AwsTarget(
            endpoint_url=state["aws_endpoint_url"],
            region=state["region"],
            access_key_id="local",
            secret_access_key="local",  # noqa: S106 - moto accepts any credentials
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
    except (ValueError, KeyError) as error:
        raise TargetError(f"{path} is not local mode's state file ({error!r})") from None
    return Target("local mode", outputs, aws)


def stack_target(stack_name: str) -> Target:
    clients = AwsClients()
    try:
        stacks = clients.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except (ClientError, BotoCoreError) as error:
        raise TargetError(f"cannot read stack {stack_name}: {type(error).__name__}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return Target(f"stack {stack_name}", outputs)
