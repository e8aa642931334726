"""The message table's stream -> pages for crisis flags and after-hours texts, and the
flag's audit event (functions/logic/care_pages.py).

Lambda's event source mapping admits only the inserts of page-request markers
(functions/dal/schema.py PAGE_REQUEST_FILTER), resumes a batch from the record this
reports as failed (and bisects one that raises), a bounded number of times, then leaves
the batch's stream coordinates in the function's DLQ (alarmed). Records are never logged.
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.dal.store import page_ledger  # noqa: F401 - see below
from functions.dal.store.page_stream import page_due
from functions.handlers._entry import EntryPoint

# Every batch claims its steps in the ledger: the module the container would import on
# first use is loaded at init, so the first batch does not pay for it.


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    requests = [due for due in map(page_due, event.get("Records", [])) if due is not None]
    failed_at = runtime.care_pages().page_all(requests)
    return {"batchItemFailures": [{"itemIdentifier": failed_at}] if failed_at else []}


handler = EntryPoint(
    handle, required=("table_name", "staff_topic_arn", "audit_table_name", "user_pool_id")
)
