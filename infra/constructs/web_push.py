"""Web Push's VAPID signing key (docs/web.md): one Secrets Manager secret under the
platform key. The stack creates it holding a random placeholder; `quietline push init`
puts a P-256 key in it and tags the secret with the public half. Until then
`GET /push/key` answers 404 and nothing is pushed.

Only the function that sends pushes (the live notifier) reads the secret; the staff API
reads its tag (DescribeSecret), which returns the public key and never the private one.
"""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from functions.core.settings import ENV_WEB_PUSH_SUBJECT, ENV_WEB_PUSH_VAPID_SECRET
from infra.config import QuietlineConfig
from infra.constructs.keys import grant_secret_value
from infra.nag import acknowledge

_ROTATION_REASON = (
    "The VAPID key is the identity every subscribed device checks pushes against: a new key"
    " invalidates every device's subscription (each must opt in again), so it is rotated on"
    " purpose by the admin (`quietline push init --rotate`, docs/web.md), never on a"
    " schedule. Secrets Manager's rotation Lambda could not re-subscribe browsers."
)


class WebPushKey(Construct):
    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, platform_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self._platform_key = platform_key
        self._subject = f"mailto:{config.alarm_email}"  # RFC 8292: whom push services contact
        self.secret = secretsmanager.Secret(
            self,
            "VapidKey",
            description=(
                "Quietline: the Web Push VAPID signing key (P-256, PEM). A random placeholder"
                " until the admin runs `quietline push init` once after the first deploy"
            ),
            # SecretsManagerUsingKMSKey: our key, not the AWS-managed one.
            encryption_key=platform_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=32, exclude_punctuation=True
            ),
        )
        # The key is configuration, not data: a stack deleted and deployed again simply
        # runs `quietline push init` again (devices opt in again).
        acknowledge(self.secret, "HIPAA.Security-SecretsManagerRotationEnabled", _ROTATION_REASON)
        acknowledge(self.secret, "AwsSolutions-SMG4", _ROTATION_REASON)

    def grant_send(self, grantee: iam.IGrantable) -> dict[str, str]:
        """GetSecretValue on exactly this secret, the platform key only through Secrets
        Manager; returns the environment the sender reads."""
        grant_secret_value(grantee, self.secret.secret_arn, self._platform_key)
        return {
            ENV_WEB_PUSH_VAPID_SECRET: self.secret.secret_arn,
            ENV_WEB_PUSH_SUBJECT: self._subject,
        }

    def grant_public_key(self, grantee: iam.IGrantable) -> dict[str, str]:
        """DescribeSecret only: the public key's tag, never the secret's value."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["secretsmanager:DescribeSecret"],
            resource_arns=[self.secret.secret_arn],
        )
        return {ENV_WEB_PUSH_VAPID_SECRET: self.secret.secret_arn}
