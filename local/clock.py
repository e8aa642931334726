"""Local mode's scheduler clock: real time plus an offset staff and tests can advance.

Only the schedule sweep reads it (Ports.scheduler_clock): advancing it two days fires the
reminders due by then without ending anyone's session (sign-in idle checks keep the real
clock). POST /local/clock/advance {"minutes": n} moves it on and sweeps at once, as the
deployed one-minute rule would have done by then; GET /local/clock tells the time.
Local only: infra has no such route.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.container import Container
from functions.core.clock import iso

CLOCK_PATH = "/local/clock"
CLOCK_ADVANCE_PATH = "/local/clock/advance"
CLOCK_HANDLER = "local.clock.ClockDriver.handler"  # the runtime's own driver answers
MAX_ADVANCE_MINUTES = 60 * 24 * 400


class AdvancingClock:
    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._offset += delta
        return self.now()


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }


class ClockDriver:
    """The two local routes, on the runtime's scheduler clock and its sweep."""

    def __init__(self, runtime: Container, clock: AdvancingClock) -> None:
        self._runtime = runtime
        self._clock = clock
        # One sweep at a time, as the deployed function's reserved concurrency of 1.
        self._sweeping = threading.Lock()

    def sweep(self) -> dict[str, int]:
        with self._sweeping:
            return asdict(self._runtime.due_sweep().sweep())

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        if event.get("httpMethod") == "GET":
            return _answer(200, {"now": iso(self._clock.now())})
        try:
            minutes = float(json.loads(event.get("body") or "{}").get("minutes", 0))
        except (ValueError, TypeError, AttributeError):
            return _answer(400, {"message": 'body must be {"minutes": number}'})
        if not 0 <= minutes <= MAX_ADVANCE_MINUTES:
            return _answer(400, {"message": "minutes must be 0 to 576000"})
        now = self._clock.advance(timedelta(minutes=minutes))
        return _answer(200, {"now": iso(now), "sweep": self.sweep()})
