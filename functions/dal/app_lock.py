"""The app lock's items in the table: the practice's lock delay and each user's PIN hash.

TENANT#<tenant>            APPLOCK          lock_after_seconds, require_unlock_method
APPLOCK#<tenant>#<user>    PIN              salt, digest (scrypt), n, r, p, length,
                                            failures, set_at
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.logic.app_lock import PinRecord, ScryptParams


def _pin_key(tenant_id: str, user_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"APPLOCK#{tenant_id}#{user_id}", SORT_KEY: "PIN"}


def _settings_key(tenant_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"TENANT#{tenant_id}", SORT_KEY: "APPLOCK"}


def _bytes(value: Any) -> bytes:
    return bytes(value)  # the resource answers Binary, which converts


class AppLockStore(aws.TableStore):
    WHAT = "app lock"

    def lock_after_seconds(self, tenant_id: str) -> int | None:
        item = self._call("get_item", Key=_settings_key(tenant_id)).get("Item") or {}
        value = item.get("lock_after_seconds")
        return int(value) if value is not None else None

    def set_lock_after_seconds(self, tenant_id: str, seconds: int) -> None:
        self._call(
            "update_item",
            Key=_settings_key(tenant_id),
            UpdateExpression="SET lock_after_seconds = :seconds",
            ExpressionAttributeValues={":seconds": seconds},
        )

    def require_unlock_method(self, tenant_id: str) -> bool | None:
        item = self._call("get_item", Key=_settings_key(tenant_id)).get("Item") or {}
        value = item.get("require_unlock_method")
        return bool(value) if value is not None else None

    def set_require_unlock_method(self, tenant_id: str, required: bool) -> None:
        self._call(
            "update_item",
            Key=_settings_key(tenant_id),
            UpdateExpression="SET require_unlock_method = :required",
            ExpressionAttributeValues={":required": required},
        )

    def pin(self, tenant_id: str, user_id: str) -> PinRecord | None:
        item = self._call("get_item", Key=_pin_key(tenant_id, user_id), ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        params = ScryptParams(int(item["n"]), int(item["r"]), int(item["p"]), int(item["length"]))
        return PinRecord(
            _bytes(item["salt"]), _bytes(item["digest"]), params, int(item.get("failures", 0))
        )

    def put_pin(self, tenant_id: str, user_id: str, record: PinRecord, *, at: str) -> None:
        params = record.params
        self._call(
            "put_item",
            Item={
                **_pin_key(tenant_id, user_id),
                "salt": record.salt,
                "digest": record.digest,
                "n": params.n,
                "r": params.r,
                "p": params.p,
                "length": params.length,
                "failures": 0,
                "set_at": at,
            },
        )

    def count_failure(self, tenant_id: str, user_id: str) -> int | None:
        try:
            answer = self._table.update_item(
                Key=_pin_key(tenant_id, user_id),
                UpdateExpression="ADD failures :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":one": 1},
                ReturnValues="UPDATED_NEW",
            )
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return None
            raise aws.translate(error, "update_item app lock") from None
        except BotoCoreError as error:
            raise aws.translate(error, "update_item app lock") from None
        return int(answer["Attributes"]["failures"])

    def clear_failures(self, tenant_id: str, user_id: str) -> None:
        try:
            self._table.update_item(
                Key=_pin_key(tenant_id, user_id),
                UpdateExpression="SET failures = :zero",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":zero": 0},
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise aws.translate(error, "update_item app lock") from None

    def delete_pin(self, tenant_id: str, user_id: str) -> None:
        self._call("delete_item", Key=_pin_key(tenant_id, user_id))
