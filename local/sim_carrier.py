"""A simulated carrier for local mode and tests: records every send, can be told to fail.

It plays the carrier's side the way End User Messaging does: it accepts the text,
returns a carrier id, and (if asked) reports delivery back through a callback.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from functions.carriers.models import OutboundSms, SendResult


@dataclass(frozen=True)
class SentText:
    carrier_message_id: str
    origination_number: str
    destination_number: str
    body: str
    message_ref: str


class SimulatedCarrier:
    name = "simulated"

    def __init__(self, on_sent: Callable[[SentText], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._outbox: list[SentText] = []
        self._failures: list[Exception] = []
        self.on_sent = on_sent

    def fail_next(self, *errors: Exception) -> None:
        """Raise these, in order, from the next sends (fault injection)."""
        with self._lock:
            self._failures.extend(errors)

    def send(self, sms: OutboundSms) -> SendResult:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            sent = SentText(
                f"SIM{next(self._ids):08d}",
                sms.origination_number,
                sms.destination_number,
                sms.body,
                sms.message_id,
            )
            self._outbox.append(sent)
        if self.on_sent:
            self.on_sent(sent)
        return SendResult(sent.carrier_message_id)

    def outbox(self, destination: str | None = None) -> list[SentText]:
        with self._lock:
            return [s for s in self._outbox if destination in (None, s.destination_number)]

    def outbox_handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """GET /local/outbox[?to=+1...]: every text this carrier sent (local mode only)."""
        to = (event.get("queryStringParameters") or {}).get("to")
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": json.dumps([asdict(sent) for sent in self.outbox(to)]),
        }
