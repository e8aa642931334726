"""The message table's stream -> "conversation changed" on every open inbox socket of the
tenant for every new message, and a no-PHI Web Push for a client's text to devices that
opted in (functions/logic/live.py).

Its own consumer of the stream, beside the e-mail notifier: a slow push service or a
throttled socket API never delays staff e-mail, and the other way round. Delivery is at
most once per batch attempt: a failed post is not retried (the app's slow fallback poll
and the next change cover it), so a batch never fails on a socket that went away.
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.core.models import Direction
from functions.dal import live, web_push  # noqa: F401 - every batch uses them: loaded at init
from functions.dal.store.stream import new_message
from functions.handlers._entry import EntryPoint
from functions.logic.live import Change


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    messages = [found for found in map(new_message, event.get("Records", [])) if found]
    # Every new message, either direction: a scheduled send or a colleague's reply shows in
    # an open thread too.
    runtime.live_service().announce(
        [Change(message.tenant_id, message.conversation_id) for message, _ in messages]
    )
    inbound = [message.tenant_id for message, way in messages if way is Direction.INBOUND]
    if inbound:
        # Devices that opted in: "New message in Quietline" for clients' texts only, once
        # per tenant per batch.
        runtime.web_push_service().notify(inbound)
    return {"batchItemFailures": []}


handler = EntryPoint(handle, required=("table_name", "live_management_url"))
