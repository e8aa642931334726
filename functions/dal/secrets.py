"""Secrets Manager reads (the Twilio auth token), cached for five minutes per instance."""

from __future__ import annotations

import time

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws

_TTL_SECONDS = 300
_cache: dict[str, tuple[float, str]] = {}


def get_secret_string(secret_id: str) -> str:
    # A short cache bounds Secrets Manager calls yet picks up a rotated token quickly.
    cached = _cache.get(secret_id)
    if cached and time.monotonic() - cached[0] < _TTL_SECONDS:
        return cached[1]
    try:
        value = str(
            aws.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
        )
    except (ClientError, BotoCoreError) as error:
        raise aws.translate(error, "secretsmanager:GetSecretValue") from None
    _cache[secret_id] = (time.monotonic(), value)
    return value
