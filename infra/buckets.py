"""What every Quietline S3 bucket shares, so no bucket can miss one of these settings."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

# 164.312(e)(1): plain HTTP and TLS < 1.2 are denied by the bucket policy; no public access
# by any ACL or policy; versioning keeps what is overwritten or deleted.
PRIVATE_BUCKET: dict[str, Any] = {
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "versioned": True,
}


def access_log_bucket(
    scope: Construct, retention_days: int, object_ownership: s3.ObjectOwnership
) -> s3.Bucket:
    """A bucket that receives another bucket's (or CloudFront's) access logs: SSE-S3 (S3
    server access logging and CloudFront standard logs cannot write under a CMK here),
    kept `retention_days` (the audit retention), retained when the stack goes."""
    return s3.Bucket(
        scope,
        "AccessLogBucket",
        **PRIVATE_BUCKET,
        encryption=s3.BucketEncryption.S3_MANAGED,
        object_ownership=object_ownership,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="ExpireAfterAuditRetention",
                expiration=cdk.Duration.days(retention_days),
                noncurrent_version_expiration=cdk.Duration.days(30),
                abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
            )
        ],
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
