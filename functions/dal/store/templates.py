"""Message templates: practice wording staff pick from (no PHI)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from functions.core.errors import NotFoundError
from functions.core.models import MessageTemplate
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY
from functions.dal.store._common import TableRecords, dynamodb, tenant_pk


class TemplateRecords(TableRecords):
    """TENANT#<tenant> TEMPLATE#<template> items."""

    def put_template(self, tenant_id: str, template: MessageTemplate) -> None:
        with dynamodb("PutItem template"):
            self._db.put_item(
                Item={
                    PARTITION_KEY: tenant_pk(tenant_id),
                    SORT_KEY: f"TEMPLATE#{template.template_id}",
                    "template_id": template.template_id,
                    "name": template.name,
                    "body": template.body,
                    "updated_at": template.updated_at,
                }
            )

    def list_templates(self, tenant_id: str) -> list[MessageTemplate]:
        with dynamodb("Query templates"):
            items = self._db.query(
                KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
                ExpressionAttributeNames={"#pk": PARTITION_KEY, "#sk": SORT_KEY},
                ExpressionAttributeValues={":pk": tenant_pk(tenant_id), ":prefix": "TEMPLATE#"},
            ).get("Items", [])
        return [_template_from_item(i) for i in items]

    def get_template(self, tenant_id: str, template_id: str) -> MessageTemplate:
        item = self._existing_item(
            {PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"TEMPLATE#{template_id}"}, "template"
        )
        return _template_from_item(item)

    def delete_template(self, tenant_id: str, template_id: str) -> None:
        with dynamodb("DeleteItem template"):
            try:
                self._db.delete_item(
                    Key={PARTITION_KEY: tenant_pk(tenant_id), SORT_KEY: f"TEMPLATE#{template_id}"},
                    ConditionExpression="attribute_exists(pk)",
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    raise NotFoundError("template not found") from None
                raise


def _template_from_item(item: dict[str, Any]) -> MessageTemplate:
    return MessageTemplate(item["template_id"], item["name"], item["body"], item["updated_at"])
