"""The message table's stream -> "conversation changed" on every open inbox socket of the
tenant, and a no-PHI Web Push to devices that opted in (functions/logic/live.py).

Its own consumer of the stream, beside the e-mail notifier: a slow push service or a
throttled socket API never delays staff e-mail, and the other way round. Delivery is at
most once per batch attempt: a failed post is not retried (the app's slow fallback poll
and the next change cover it), so a batch never fails on a socket that went away.
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.dal import live, web_push  # noqa: F401 - every batch uses them: loaded at init
from functions.dal.store.stream import new_inbound_message
from functions.handlers._entry import EntryPoint
from functions.logic.live import Change


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    changes = [
        Change(arrival.tenant_id, arrival.conversation_id)
        for arrival in map(new_inbound_message, event.get("Records", []))
        if arrival is not None
    ]
    runtime.live_service().announce(changes)
    if changes:
        # Devices that opted in: "New message in Quietline", once per tenant per batch.
        runtime.web_push_service().notify(change.tenant_id for change in changes)
    return {"batchItemFailures": []}


handler = EntryPoint(handle, required=("table_name", "live_management_url"))
