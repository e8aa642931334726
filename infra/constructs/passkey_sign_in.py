"""Passkey sign-in: the user pool's custom-authentication triggers
(functions/handlers/passkey_sign_in.py, docs/access.md "Passkey sign-in").

One function answers Define, Create and VerifyAuthChallenge. Its grants are exactly what
verifying a passkey needs: read a user's public keys and record their use (the passkey
partitions only), and append the audit event. Nothing of the function depends on the
inbox's origin: each passkey carries the relying party it was enrolled for, so the pool
(which the API's authorizer needs) does not wait on the distribution (which needs the
API), and no dependency cycle forms.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from functions.core.settings import ENV_AUDIT_TABLE_NAME
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.identity import StaffIdentity
from infra.constructs.pipeline import PipelineParts

HANDLER = "functions.handlers.passkey_sign_in.handler"
# Cognito waits 5 seconds for a trigger, then refuses the sign-in.
TRIGGER_TIMEOUT = cdk.Duration.seconds(5)
TRIGGERS = (
    cognito.UserPoolOperation.DEFINE_AUTH_CHALLENGE,
    cognito.UserPoolOperation.CREATE_AUTH_CHALLENGE,
    cognito.UserPoolOperation.VERIFY_AUTH_CHALLENGE_RESPONSE,
)


class PasskeySignIn(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        parts: PipelineParts,
        audit_log: AuditLog,
        identity: StaffIdentity,
    ) -> None:
        super().__init__(scope, id)
        self.function = QuietlineFunction(
            self,
            "Triggers",
            config=parts.config,
            platform_key=parts.platform_key.key,
            alarms=parts.alarms,
            handler=HANDLER,
            description="Signs staff in with a passkey (Cognito custom-auth triggers; no PHI)",
            environment={
                **parts.env_core(),
                ENV_AUDIT_TABLE_NAME: audit_log.table.table_name,
            },
            network=parts.network,
            timeout=TRIGGER_TIMEOUT,
            synchronous=True,  # Cognito waits for it: a failure refuses the sign-in
        )
        parts.store.grant_passkey_sign_in(self.function)
        audit_log.grant_append(self.function)
        for operation in TRIGGERS:
            identity.user_pool.add_trigger(operation, self.function.function)
        # A trigger that fails refuses every passkey sign-in (staff fall back to password
        # and code): an operator should know at the first one.
        self.errors_alarm = self.function.function.metric_errors(
            period=cdk.Duration.minutes(5), statistic=cloudwatch.Stats.SUM
        ).create_alarm(
            self,
            "ErrorsAlarm",
            alarm_description="Passkey sign-in failed in its trigger (DynamoDB, the audit log"
            " or a timeout); staff can still sign in with password and code",
            threshold=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        parts.alarms.add_alarm_action(self.errors_alarm)
