"""The reviewed acknowledgements of the staff API, identity and audit constructs, which
every app variant shares (test_nag.py and test_twilio.py add them to their lists)."""

from __future__ import annotations

from functions.handlers.api import ROUTES

API_GATEWAY_CLOUDWATCH_ROLE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]",
    "Quietline/ApiGatewayAccount/CloudWatchRole",
)
BACKUP_ROLE_RULE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSBackupServiceRolePolicyForBackup]"
)
FUNCTION_RULES = (
    ("HIPAA.Security-LambdaInsideVPC", "Function"),
    ("AwsSolutions-L1", "Function"),
    ("AwsSolutions-IAM5[Resource::*]", "Role/Policy"),
)
STAFF_STAGE = "Quietline/StaffApi/Api/DeploymentStage.prod"


def function_acknowledgements(path: str) -> set[tuple[str, str]]:
    """A QuietlineFunction outside the optional VPC: VPC, runtime pin, X-Ray's Resource::*."""
    return {(rule, f"{path}/{suffix}") for rule, suffix in FUNCTION_RULES}


def synchronous_function_acknowledgements(path: str) -> set[tuple[str, str]]:
    """A QuietlineFunction invoked synchronously only (API Gateway, Cognito): no DLQ."""
    return function_acknowledgements(path) | {("HIPAA.Security-LambdaDLQ", f"{path}/Function")}


def public_method_paths() -> set[str]:
    """Construct paths of the staff API methods of public routes (walked from ROUTES)."""
    return {
        f"Quietline/StaffApi/Api/Default{route.path}/{route.method}"
        for route in ROUTES
        if route.public
    }


SECURE_LINK_API = "Quietline/SecureLinks/Api"
SECURE_LINK_STAGE = f"{SECURE_LINK_API}/DeploymentStage.prod"


def secure_link_acknowledgements(*, waf_enabled: bool) -> set[tuple[str, str]]:
    """An inbox (hosted here or elsewhere): the clients' secure-message API, apart from the
    staff API, and its own function."""
    found = {
        *synchronous_function_acknowledgements("Quietline/SecureLinks/Function"),
        # No staff account: link token + one-time code (on the API, so every method).
        ("AwsSolutions-APIG4", SECURE_LINK_API),
        ("AwsSolutions-COG4", SECURE_LINK_API),
        ("AwsSolutions-APIG2", SECURE_LINK_API),
        ("HIPAA.Security-APIGWCacheEnabledAndEncrypted", SECURE_LINK_STAGE),
        ("HIPAA.Security-APIGWSSLEnabled", SECURE_LINK_STAGE),
    }
    if not waf_enabled:
        found.add(("AwsSolutions-APIG3", SECURE_LINK_STAGE))
    return found


def web_hosting_acknowledgements() -> set[tuple[str, str]]:
    """The inbox on S3 + CloudFront with the default certificate and no geo restriction."""
    return {
        *(
            (rule, f"Quietline/Web/{bucket}")
            for bucket in ("Bucket", "AccessLogBucket")
            for rule in (
                "HIPAA.Security-S3DefaultEncryptionKMS",
                "HIPAA.Security-S3BucketReplicationEnabled",
            )
        ),
        *(
            (rule, "Quietline/Web/Distribution")
            for rule in ("AwsSolutions-CFR1", "AwsSolutions-CFR2", "AwsSolutions-CFR4")
        ),
    }


def staff_and_audit_acknowledgements(*, waf_enabled: bool, trail: bool) -> set[tuple[str, str]]:
    found = {
        API_GATEWAY_CLOUDWATCH_ROLE,
        (BACKUP_ROLE_RULE, "Quietline/Backups/Plan/AuditTable/Role"),
        ("AwsSolutions-COG8", "Quietline/Identity/UserPool"),
        ("AwsSolutions-APIG2", "Quietline/StaffApi/Api"),
        ("HIPAA.Security-APIGWCacheEnabledAndEncrypted", STAFF_STAGE),
        ("HIPAA.Security-APIGWSSLEnabled", STAFF_STAGE),
        *synchronous_function_acknowledgements("Quietline/StaffApi/Function"),
        *function_acknowledgements("Quietline/AuditLog/Sealer/Handler"),
        # The user pool's passkey sign-in triggers (every configuration has the pool).
        *synchronous_function_acknowledgements("Quietline/PasskeySignIn/Triggers"),
        *(
            (rule, path)
            for path in public_method_paths()
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4")
        ),
    }
    if not waf_enabled:
        found.add(("AwsSolutions-APIG3", STAFF_STAGE))
    if trail:
        found |= {
            ("HIPAA.Security-S3BucketReplicationEnabled", f"Quietline/Trail/{bucket}")
            for bucket in ("Bucket", "AccessLogBucket")
        }
    return found


def live_update_acknowledgements() -> set[tuple[str, str]]:
    """The inbox's WebSocket API (infra/constructs/live_updates.py): routes without an
    authorizer (a single-use ticket is the first frame) and posting to run-time sockets."""
    from tests.infra.conftest import ACCOUNT, REGION

    stage = f"arn:aws:execute-api:{REGION}:{ACCOUNT}:<LiveApi149456B6>/live"
    return {
        *synchronous_function_acknowledgements("Quietline/Live/LiveSocket"),
        *function_acknowledgements("Quietline/Live/LiveNotifier"),
        # Web Push's VAPID key: rotated on purpose only (every device re-subscribes).
        ("HIPAA.Security-SecretsManagerRotationEnabled", "Quietline/WebPush/VapidKey"),
        ("AwsSolutions-SMG4", "Quietline/WebPush/VapidKey"),
        *(
            ("AwsSolutions-APIG4", f"Quietline/Live/Api/{route}-Route/Resource")
            for route in ("$connect", "$disconnect", "$default", "auth")
        ),
        *(
            (
                f"AwsSolutions-IAM5[Resource::{stage}/{method}/@connections/*]",
                f"Quietline/Live/{fn}",
            )
            for method in ("POST", "DELETE")
            for fn in ("LiveSocket", "LiveNotifier")
        ),
    }
