"""What every Quietline S3 bucket shares, so no bucket can miss one of these settings."""

from __future__ import annotations

from typing import Any

from aws_cdk import aws_s3 as s3

# 164.312(e)(1): plain HTTP and TLS < 1.2 are denied by the bucket policy; no public access
# by any ACL or policy; versioning keeps what is overwritten or deleted.
PRIVATE_BUCKET: dict[str, Any] = {
    "enforce_ssl": True,
    "minimum_tls_version": 1.2,
    "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
    "versioned": True,
}
