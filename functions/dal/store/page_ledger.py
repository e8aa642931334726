"""Which steps of a page finished: the care pager's dedupe, one conditional write per step.

    TENANT#<tenant>   PAGED#<page key>#<step>   state claimed|done, a week's TTL

A page key names one page request (an urgent marker's flag, an after-hours text's id), a
step one channel or the audit event. Lambda hands a stream shard's batches to one
invocation at a time, so a step found `claimed` was left by an attempt that died before
it finished (a timeout): it is taken again. A step found `done` is skipped: a retried
batch or a record delivered twice never pages, or audits, twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from functions.core.clock import expiry, iso
from functions.dal import aws
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE
from functions.dal.store._common import TableRecords, dynamodb, tenant_pk

PAGED_PREFIX = "PAGED#"
LEDGER_DAYS = 7  # long past the stream's 24 hours and the consumer's retries


@dataclass
class LedgerSteps:
    """The steps of one page (functions/logic/pager.py PageSteps)."""

    db: aws.TableClient
    tenant_id: str
    page_key: str
    now: datetime

    def _key(self, step: str) -> dict[str, str]:
        return {
            PARTITION_KEY: tenant_pk(self.tenant_id),
            SORT_KEY: f"{PAGED_PREFIX}{self.page_key}#{step}",
        }

    def claim(self, step: str) -> bool:
        item = {
            **self._key(step),
            "state": "claimed",
            "claimed_at": iso(self.now),
            TTL_ATTRIBUTE: expiry(self.now, LEDGER_DAYS),
        }
        with dynamodb("PutItem page step"):
            try:
                self.db.put_item(
                    Item=item,
                    ConditionExpression="attribute_not_exists(#pk) OR #state <> :done",
                    ExpressionAttributeNames={"#pk": PARTITION_KEY, "#state": "state"},
                    ExpressionAttributeValues={":done": "done"},
                )
            except ClientError as error:
                if aws.error_code(error) == "ConditionalCheckFailedException":
                    return False
                raise
        return True

    def done(self, step: str) -> None:
        with dynamodb("UpdateItem page step"):
            self.db.update_item(
                Key=self._key(step),
                UpdateExpression="SET #state = :done",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":done": "done"},
            )


class PageLedger(TableRecords):
    def steps(self, tenant_id: str, page_key: str, now: datetime) -> LedgerSteps:
        return LedgerSteps(self._db, tenant_id, page_key, now)
