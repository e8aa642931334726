"""`quietline backups restore`: point-in-time restore of the message table to a new table."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws


def restore_to_new_table(
    dynamodb: Any,
    source: str,
    target: str,
    *,
    at: datetime | None,
    kms_key_arn: str | None,
    timeout_seconds: float = 1800,
) -> int:
    """Restore `source` as of `at` (or the latest restorable time) into `target`, wait until
    it is ACTIVE, and return its item count so the operator can sanity-check it.

    The new table is encrypted with the same customer-managed key; the old one is left
    untouched (never restore over live data).
    """
    request: dict[str, Any] = {"SourceTableName": source, "TargetTableName": target}
    if at is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreDateTime"] = at
    if kms_key_arn:
        request["SSESpecificationOverride"] = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": kms_key_arn,
        }
    try:
        dynamodb.restore_table_to_point_in_time(**request)
        deadline = time.monotonic() + timeout_seconds
        while dynamodb.describe_table(TableName=target)["Table"]["TableStatus"] != "ACTIVE":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target} is not ACTIVE yet; check the console")
            time.sleep(10)
        dynamodb.update_continuous_backups(
            TableName=target, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        return int(dynamodb.scan(TableName=target, Select="COUNT")["Count"])
    except (ClientError, BotoCoreError) as error:
        raise aws.translate(error, "restore") from None
