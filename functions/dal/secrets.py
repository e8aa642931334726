"""Secrets Manager reads (the Twilio auth token), kept for five minutes per instance."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws

_TTL_SECONDS = 300


class CachedSecret:
    """One secret's string, re-read after a short TTL: few Secrets Manager calls, yet a
    rotated token is picked up within minutes."""

    def __init__(self, client: Any, secret_id: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self._value: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if self._value and time.monotonic() - self._value[0] < _TTL_SECONDS:
                return self._value[1]
            try:
                response = self._client.get_secret_value(SecretId=self._secret_id)
            except (ClientError, BotoCoreError) as error:
                raise aws.translate(error, "secretsmanager:GetSecretValue") from None
            self._value = (time.monotonic(), str(response["SecretString"]))
            return self._value[1]


def secret_tag(client: Any, secret_id: str, tag: str) -> str | None:
    """A tag's value from DescribeSecret (which never returns the secret itself): where a
    public value kept beside a private one (the VAPID public key) is read without the
    right to read the secret."""
    try:
        response = client.describe_secret(SecretId=secret_id)
    except (ClientError, BotoCoreError) as error:
        raise aws.translate(error, "secretsmanager:DescribeSecret") from None
    for item in response.get("Tags", []):
        if item.get("Key") == tag:
            return str(item["Value"])
    return None
