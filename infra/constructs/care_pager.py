"""The care pager: pages for crisis flags and after-hours texts, from the message table's
stream, off the carrier's request path (functions/handlers/care_pager.py, docs/crisis.md).

Its own function and role, granted exactly what paging and the flag's audit event need,
which the inbound functions deliberately lack: the staff topic (e-mail pages), ListUsers
on the user pool (who is active staff), the audit table (append only), the tenant
partitions of the message table (settings, tenant, conversation, forwarding records, the
dedupe ledger), each tenant's key to decrypt forwarding cells only, and the carrier's send.
A record that does not finish is retried by the stream, then lands in the DLQ (alarmed).
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct

from functions.core.settings import (
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_SMS_CONFIGURATION_SET,
    ENV_STAFF_TOPIC_ARN,
    ENV_USER_POOL_ID,
)
from functions.crypto.contexts import forwarding_number_location
from functions.dal.schema import PAGE_REQUEST_FILTER
from infra.constructs import end_user_messaging
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.identity import StaffIdentity
from infra.constructs.keys import TENANT_CONTEXT_CONDITION
from infra.constructs.messaging import Messaging
from infra.constructs.pipeline import HANDLERS

# The message table's items the pager touches (all in tenant partitions): settings (GetItem),
# tenant + conversation and forwarding records (BatchGetItem), the ledger (Put/UpdateItem).
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
# The encryption-context field a forwarding cell is sealed under: the only one it may open.
FORWARDING_FIELD = forwarding_number_location("-", "-").field
FIELD_CONTEXT_CONDITION = "kms:EncryptionContext:field"
PAGE_FAILED_METRIC = "CarePageFailed"


class CarePager(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        messaging: Messaging,
        audit_log: AuditLog,
        identity: StaffIdentity,
    ) -> None:
        super().__init__(scope, id)
        parts = messaging.parts
        config = parts.config
        environment = {
            **parts.env_core(),
            ENV_STAFF_TOPIC_ARN: messaging.staff.topic.topic_arn,
            ENV_AUDIT_TABLE_NAME: audit_log.table.table_name,
            ENV_USER_POOL_ID: identity.user_pool.user_pool_id,
            ENV_CARRIER: config.carrier,
        }
        twilio = messaging.twilio
        if twilio is not None:
            # No public base URL: a page asks Twilio for no status callback.
            environment |= twilio.env()
        elif config.sms_configuration_set:
            environment[ENV_SMS_CONFIGURATION_SET] = config.sms_configuration_set
        # Built in the Messaging construct like every pipeline function (pipeline.py).
        self.function: QuietlineFunction = parts.stream_consumer(
            "CarePager",
            HANDLERS["care_pager"],
            "Pages the on-call clinician for crisis flags and after-hours texts (no PHI)",
            environment,
            filter_pattern=PAGE_REQUEST_FILTER,
        )
        fn = self.function
        parts.store.grant_tenant_items(fn, TABLE_ACTIONS, write=True)
        messaging.staff.grant_publish(fn)
        identity.grant_staff_lookup(fn)
        audit_log.grant_append(fn)
        for tenant_id in parts.tenant_keys.keys:
            iam.Grant.add_to_principal(
                grantee=fn,
                actions=["kms:Decrypt"],
                resource_arns=[parts.tenant_keys.key(tenant_id).key_arn],
                conditions={
                    "StringEquals": {
                        TENANT_CONTEXT_CONDITION: tenant_id,
                        FIELD_CONTEXT_CONDITION: FORWARDING_FIELD,
                    }
                },
            )
        if twilio is None:
            end_user_messaging.grant_send_text_message(parts, fn)
        else:
            twilio.grant_read_auth_token(fn)
        self.failed_alarm = parts.alarms.on_code_metric(
            self,
            PAGE_FAILED_METRIC,
            threshold=1,
            description="A page (crisis flag or after-hours text) did not finish; the stream"
            " retries it, then leaves it in the care pager's DLQ (docs/operations.md)",
        )
