"""Scheduled (every few minutes): re-drive queued messages nobody picked up; expire stale ones."""

from __future__ import annotations

from typing import Any

from functions import wiring
from functions.handlers._entry import lambda_entry
from functions.logic.delivery import Sweeper


@lambda_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    sweeper: Sweeper = wiring.sweeper()
    report = sweeper.sweep()
    return {"requeued": report.requeued, "expired": report.expired}
