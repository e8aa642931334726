"""DynamoDB Streams consumer of the audit table: seals new events into each tenant's chain.

The event source mapping delivers only event INSERTs (schema.AUDIT_SEALER_FILTER), one
batch at a time per shard, in order; anything else in a batch is ignored here too. A
failed batch is retried, bisected, then dead-lettered (infra/constructs/audit_sealer.py).
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.dal import audit_log  # noqa: F401 - every batch appends: loaded at init
from functions.dal.audit_log import stored_event_from_stream
from functions.handlers._entry import EntryPoint
from functions.logic.audit_seal import seal_batch


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, int]:
    records = [stored_event_from_stream(record) for record in event.get("Records", [])]
    stored = [record for record in records if record is not None]
    report = seal_batch(stored, runtime.audit_log(), runtime.clock())
    return {"sealed": report.sealed, "already_sealed": report.already_sealed}


handler = EntryPoint(handle, required=("audit_table_name",))
