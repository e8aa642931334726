"""The Quietline stack: composes one construct per capability, nothing else."""

from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.backup import Backups
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", slug) if part)


class QuietlineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, env: cdk.Environment
    ) -> None:
        super().__init__(
            scope,
            id,
            env=env,
            description=f"Quietline HIPAA-ready client texting for {config.practice_name}",
            # The stack holds every key and record: protect it from an accidental delete.
            termination_protection=True,
        )
        self.config = config
        self.platform_key = PlatformKey(self, "PlatformKey", config=config)
        self.tenant_keys = TenantKeys(self, "TenantKeys", config=config)
        self.alarms = Alarms(self, "Alarms", config=config, platform_key=self.platform_key.key)
        self.network = (
            Network(self, "Network", config=config, platform_key=self.platform_key.key)
            if config.vpc.enabled
            else None
        )
        self.message_store = MessageStore(
            self, "MessageStore", config=config, platform_key=self.platform_key.key
        )
        self.backups = Backups(
            self,
            "Backups",
            config=config,
            platform_key=self.platform_key.key,
            alarms=self.alarms,
        )
        self.backups.protect("MessageTable", self.message_store.table)
        self._outputs()

    def _outputs(self) -> None:
        cdk.CfnOutput(
            self,
            "MessageTableName",
            value=self.message_store.table.table_name,
            description="DynamoDB table holding messages (PHI fields envelope-encrypted)",
        )
        output_ids: dict[str, str] = {}
        for tenant_id, key in self.tenant_keys.keys.items():
            # Tenant ids are configuration slugs, not PHI.
            output_id = f"TenantKey{_pascal(tenant_id)}Arn"
            if output_id in output_ids:
                raise ValueError(
                    f"tenants '{output_ids[output_id]}' and '{tenant_id}' need distinct "
                    "ids once hyphens are dropped (CloudFormation output names)"
                )
            output_ids[output_id] = tenant_id
            cdk.CfnOutput(
                self,
                output_id,
                value=key.key_arn,
                description=f"KMS envelope key of tenant {tenant_id}",
            )
        cdk.CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarms.topic.topic_arn,
            description="SNS topic that alarms publish to",
        )
