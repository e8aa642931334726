"""Test-only stacks that prove QuietlineFunction before real handlers exist."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.backup import Backups
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network

# Lambda does not check at synth that the module exists; these name the shape only.
INBOUND_HANDLER = "functions.handlers.inbound_sms.handler"
SENDER_HANDLER = "functions.handlers.sender.handler"
SENDER_CONCURRENCY = 2


class FunctionTestStack(cdk.Stack):
    """Two functions sharing one asset, granted the way real handlers will be."""

    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, env: cdk.Environment
    ) -> None:
        super().__init__(scope, id, env=env)
        self.platform_key = platform_key = PlatformKey(self, "PlatformKey", config=config).key
        self.tenant_keys = tenant_keys = TenantKeys(self, "TenantKeys", config=config)
        self.alarms = alarms = Alarms(self, "Alarms", config=config, platform_key=platform_key)
        self.network = network = (
            Network(self, "Network", config=config, platform_key=platform_key)
            if config.vpc.enabled
            else None
        )
        self.store = store = MessageStore(
            self, "MessageStore", config=config, platform_key=platform_key
        )
        Backups(self, "Backups", config=config, platform_key=platform_key, alarms=alarms).protect(
            "MessageTable", store.table
        )

        self.inbound = QuietlineFunction(
            self,
            "Inbound",
            config=config,
            platform_key=platform_key,
            alarms=alarms,
            handler=INBOUND_HANDLER,
            description="Inbound SMS",
            environment={"TABLE_NAME": store.table.table_name},
            network=network,
        )
        self.sender = QuietlineFunction(
            self,
            "Sender",
            config=config,
            platform_key=platform_key,
            alarms=alarms,
            handler=SENDER_HANDLER,
            description="Outbound SMS sender",
            network=network,
            reserved_concurrency=SENDER_CONCURRENCY,
        )
        store.grant_read_write_data(self.inbound)
        tenant_keys.grant_envelope(self.inbound, "harbor", decrypt=False, generate=True)
        store.grant_read_data(self.sender)
        tenant_keys.grant_envelope(self.sender, "harbor", decrypt=True, generate=False)
