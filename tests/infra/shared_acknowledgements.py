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


def public_method_paths() -> set[str]:
    """Construct paths of the staff API methods of public routes (walked from ROUTES)."""
    return {
        f"Quietline/StaffApi/Api/Default{route.path}/{route.method}"
        for route in ROUTES
        if route.public
    }


SECURE_LINK_STEPS = (
    ("POST", "challenge"),
    ("POST", "verify"),
    ("GET", "message"),
    ("POST", "reply"),
)


def secure_link_acknowledgements() -> set[tuple[str, str]]:
    """An inbox (hosted here or elsewhere): the clients' public secure-message path and its
    own function."""
    return {
        *function_acknowledgements("Quietline/StaffApi/SecureLinkFunction"),
        *(
            (rule, f"Quietline/StaffApi/Api/Default/secure/{{token}}/{step}/{method}")
            for method, step in SECURE_LINK_STEPS
            for rule in ("AwsSolutions-APIG4", "AwsSolutions-COG4")
        ),
    }


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
        *function_acknowledgements("Quietline/StaffApi/Function"),
        *function_acknowledgements("Quietline/AuditLog/Sealer/Handler"),
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
