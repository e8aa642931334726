"""Scheduled (every minute): send the scheduled messages and reminders now due.

Ids only in and out: the EventBridge event carries nothing, the answer is counts. A
fault that escapes the sweep fails the invocation: Lambda retries it, then puts the
event on the dead-letter queue (alarmed); the due pointers stay, so the next minute's
sweep sends what this one could not (functions/logic/scheduling.py).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from functions.container import Container
from functions.dal.store import schedules  # noqa: F401 - every run sweeps: loaded at init
from functions.handlers._entry import EntryPoint
from functions.logic import scheduling  # noqa: F401


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, int]:
    return asdict(runtime.due_sweep().sweep())


handler = EntryPoint(handle, required=("table_name", "outbound_queue_url"))
