"""DynamoDB Streams consumer of the audit table: seals new events into each tenant's chain.

The event source mapping delivers only event INSERTs (schema.AUDIT_SEALER_FILTER), one
batch at a time per shard, in order; anything else in a batch is ignored here too. A
failed batch is retried, bisected, then dead-lettered (infra/constructs/audit.py).
"""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.dal.audit_log import stored_event_from_stream
from functions.handlers._entry import lambda_entry
from functions.logic.audit_seal import seal_batch


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    records = [stored_event_from_stream(record) for record in event.get("Records", [])]
    report = seal_batch(
        [stored for stored in records if stored is not None], wiring.audit_log(), wiring.clock()
    )
    return {"sealed": report.sealed, "already_sealed": report.already_sealed}
