"""The message table's stream -> one no-PHI "new message" e-mail per new inbound text.

Lambda's event source mapping filters the stream to inbound message inserts
(functions/dal/schema.py NEW_INBOUND_MESSAGE_FILTER), resumes a batch from the record
this reports as failed (and bisects one that raises), a bounded number of times, then
leaves the batch's stream coordinates in the function's DLQ (alarmed). Records are never
logged: an image holds only ciphertext and ids, but it is still the practice's data.
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.dal import notifier  # noqa: F401 - see below
from functions.dal.store.stream import new_inbound_message
from functions.handlers._entry import EntryPoint
from functions.logic import staff_alerts  # noqa: F401 - see below

# Every batch reads tenants and publishes to SNS: the modules the container would import
# on first use are loaded at init, so the first batch does not pay for them.


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    arrivals = [
        arrival
        for arrival in map(new_inbound_message, event.get("Records", []))
        if arrival is not None
    ]
    failed_at = runtime.staff_alerts().notify(arrivals)
    return {"batchItemFailures": [{"itemIdentifier": failed_at}] if failed_at else []}


handler = EntryPoint(handle, required=("table_name", "staff_topic_arn"))
