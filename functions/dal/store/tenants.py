"""Tenant profiles, their settings, and business number -> tenant."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import ConflictError
from functions.core.models import AfterHours, Tenant, TenantSettings, TenantStatus
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.dal.store._common import TableRecords, dynamodb, number_pk, tenant_key, tenant_pk


class TenantRecords(TableRecords):
    """TENANT#<tenant> PROFILE and NUMBER#<number> NUMBER items."""

    def put_tenant(self, tenant: Tenant) -> None:
        item: dict[str, Any] = {
            PARTITION_KEY: tenant_pk(tenant.tenant_id),
            SORT_KEY: "PROFILE",
            "tenant_id": tenant.tenant_id,
            "display_name": tenant.display_name,
            "support_contact": tenant.support_contact,
            "retention_days": tenant.retention_days,
            "status": tenant.status.value,
            "business_numbers": list(tenant.business_numbers),
            "settings": _settings_item(tenant.settings),
        }
        if tenant.index_key_record:
            item["index_key_record"] = tenant.index_key_record
        with dynamodb("PutItem tenant"):
            self._db.put_item(Item=item)

    def update_tenant_profile(self, tenant: Tenant) -> None:
        """Refresh display fields without touching the index key or the wiped flag."""
        self._update_existing(
            tenant_key(tenant.tenant_id),
            "tenant",
            UpdateExpression=(
                "SET display_name = :n, support_contact = :s, retention_days = :r, "
                "business_numbers = :b"
            ),
            ExpressionAttributeValues={
                ":n": tenant.display_name,
                ":s": tenant.support_contact,
                ":r": tenant.retention_days,
                ":b": list(tenant.business_numbers),
            },
        )

    def get_tenant(self, tenant_id: str) -> Tenant:
        item = self._existing_item(
            {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: "PROFILE"}, "tenant", consistent=True
        )
        return tenant_from_item(item)

    def set_tenant_status(self, tenant_id: str, status: TenantStatus) -> None:
        self._update_existing(
            tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET #status = :v",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":v": status.value},
        )

    def set_tenant_retention(self, tenant_id: str, days: int) -> None:
        self._update_existing(
            tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET retention_days = :v",
            ExpressionAttributeValues={":v": days},
        )

    def update_tenant_settings(self, tenant_id: str, settings: TenantSettings) -> None:
        self._update_existing(
            tenant_key(tenant_id),
            "tenant",
            UpdateExpression="SET settings = :s",
            ExpressionAttributeValues={":s": _settings_item(settings)},
        )

    def assign_business_number(self, number: str, tenant_id: str) -> None:
        """Map a business number to a tenant; refuse to steal another tenant's number."""
        with dynamodb("PutItem number"):
            try:
                self._db.put_item(
                    Item={
                        PARTITION_KEY: number_pk(number),
                        SORT_KEY: "NUMBER",
                        "tenant_id": tenant_id,
                    },
                    ConditionExpression="attribute_not_exists(pk) OR tenant_id = :t",
                    ExpressionAttributeValues={":t": tenant_id},
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise ConflictError("business number belongs to another tenant") from None
                raise

    def tenant_id_for_number(self, number: str) -> str:
        item = self._existing_item(
            {PARTITION_KEY: number_pk(number), SORT_KEY: "NUMBER"},
            "number",
            missing="business number not assigned",
        )
        return str(item["tenant_id"])


def tenant_from_item(item: dict[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=item["tenant_id"],
        display_name=item["display_name"],
        support_contact=item["support_contact"],
        retention_days=int(item["retention_days"]),
        status=TenantStatus(item["status"]),
        index_key_record=bytes(item["index_key_record"]) if "index_key_record" in item else b"",
        business_numbers=tuple(item.get("business_numbers", ())),
        settings=_settings_from_item(item.get("settings") or {}),
    )


def _settings_item(settings: TenantSettings) -> dict[str, Any]:
    after = settings.after_hours
    return {
        "help_reply": settings.help_reply,
        "stop_reply": settings.stop_reply,
        "start_reply": settings.start_reply,
        "max_body_chars": settings.max_body_chars,
        "after_hours": {
            "enabled": after.enabled,
            "timezone": after.timezone,
            "hours": {str(day): list(span) for day, span in after.hours.items()},
            "text": after.text,
            "window_minutes": after.window_minutes,
            "holidays": list(after.holidays),
        },
    }


def _settings_from_item(item: dict[str, Any]) -> TenantSettings:
    defaults = TenantSettings()
    after = item.get("after_hours") or {}
    hours = after.get("hours")
    return TenantSettings(
        help_reply=item.get("help_reply", ""),
        stop_reply=item.get("stop_reply", ""),
        start_reply=item.get("start_reply", ""),
        max_body_chars=int(item.get("max_body_chars", defaults.max_body_chars)),
        after_hours=AfterHours(
            enabled=bool(after.get("enabled", False)),
            timezone=after.get("timezone", defaults.after_hours.timezone),
            hours=(
                {int(d): (span[0], span[1]) for d, span in hours.items()}
                if hours is not None
                else defaults.after_hours.hours
            ),
            text=after.get("text", ""),
            window_minutes=int(after.get("window_minutes", defaults.after_hours.window_minutes)),
            holidays=tuple(after.get("holidays", ())),
        ),
    )
