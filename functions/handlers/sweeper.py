"""Scheduled (every few minutes): re-drive queued messages nobody picked up; expire stale ones."""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.handlers._entry import lambda_entry


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    report = wiring.sweeper().sweep()
    return {"requeued": report.requeued, "expired": report.expired}
