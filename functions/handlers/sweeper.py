"""Scheduled (every few minutes): re-drive queued messages nobody picked up; expire stale ones."""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.handlers._entry import EntryPoint
from functions.logic import delivery  # noqa: F401 - every run sweeps: loaded at init


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, int]:
    report = runtime.sweeper().sweep()
    return {"requeued": report.requeued, "expired": report.expired}


handler = EntryPoint(handle, required=("table_name", "outbound_queue_url"))
