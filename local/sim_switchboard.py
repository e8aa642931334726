"""The simulated voice carrier's switchboard: which phones ring, who picked up, for how long.

Local mode only. A real carrier keeps this state in its own network; the simulator keeps
it here so the phone page (the client) and the cell page (a clinician's forwarding cell)
can see the legs that ring them and answer them. It holds no service: the driver
(local/sim_voice.py) reports each change to VoiceService and tells the switchboard what
the service answered. Numbers are fictional 555-01xx ones; still, nothing here logs one.

Time is the switchboard's own clock (monotonic seconds), injected so tests need not wait:
a leg rings inside its window; once every leg's window has passed, `expired` hands the
call back to the driver as unanswered, as a carrier's ring timeout would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# How long an ended call stays listed, so both pages can show how it ended.
_KEEP_ENDED_SECONDS = 60.0
# A click-to-call's client leg rings this long (the service's outbound default).
CLIENT_RING_SECONDS = 30


@dataclass
class SimLeg:
    to: str = field(repr=False)
    role: str  # "clinician" (screened) or "client"
    user_id: str  # the clinician's user id; "" for the client's leg
    ring_from: float
    ring_until: float
    state: str = "waiting"  # waiting -> connected | declined | missed | ended

    def ringing(self, now: float) -> bool:
        return self.state == "waiting" and self.ring_from <= now < self.ring_until


@dataclass
class SimCall:
    call_id: str
    direction: str  # "inbound" (a client called) or "outbound" (click-to-call)
    caller_id: str  # what every rung phone shows: the business number
    client: str = field(repr=False)
    prompt: str  # the screening prompt a rung clinician hears
    strategy: str
    ring_seconds: int
    legs: list[SimLeg]
    state: str = "ringing"  # ringing -> connected -> ended; ringing -> voicemail -> ended
    placed_by: str = ""
    answered_by: str = ""
    connected_at: float | None = None
    ended_at: float | None = None
    outcome: str = ""
    greeting: str = ""
    max_voicemail_seconds: int = 0


@dataclass(frozen=True)
class Hangup:
    """What the carrier reports when a call is hung up (VoiceService.call_finished)."""

    outcome: str
    answered_by: str | None
    duration_seconds: int


class Switchboard:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[str, SimCall] = {}

    # --- a call starts ---------------------------------------------------------------------

    def ring_inbound(
        self,
        call_id: str,
        *,
        client: str,
        caller_id: str,
        targets: list[tuple[str, str]],  # (user id, cell number), in the plan's order
        strategy: str,
        ring_seconds: int,
        prompt: str,
    ) -> None:
        """A client dialled the business number and the plan says ring these cells."""
        now = self._clock()
        legs = []
        for index, (user_id, number) in enumerate(targets):
            start = now if strategy == "simultaneous" else now + index * ring_seconds
            legs.append(SimLeg(number, "clinician", user_id, start, start + ring_seconds))
        self._add(
            SimCall(call_id, "inbound", caller_id, client, prompt, strategy, ring_seconds, legs)
        )

    def straight_to_voicemail(
        self, call_id: str, *, client: str, caller_id: str, greeting: str, max_seconds: int
    ) -> None:
        """Nobody to ring (after hours, no route): the caller hears the greeting at once."""
        call = SimCall(call_id, "inbound", caller_id, client, "", "sequential", 0, [])
        call.state, call.greeting, call.max_voicemail_seconds = "voicemail", greeting, max_seconds
        self._add(call)

    def ring_outbound(
        self,
        call_id: str,
        *,
        caller_id: str,
        clinician_user_id: str,
        clinician_number: str,
        client: str,
        prompt: str,
        ring_seconds: int,
    ) -> None:
        """Click-to-call: the clinician's cell rings first; the client only once accepted."""
        now = self._clock()
        leg = SimLeg(clinician_number, "clinician", clinician_user_id, now, now + ring_seconds)
        call = SimCall(
            call_id, "outbound", caller_id, client, prompt, "sequential", ring_seconds, [leg]
        )
        call.placed_by = clinician_user_id
        self._add(call)

    def _add(self, call: SimCall) -> None:
        with self._lock:
            self._calls.setdefault(call.call_id, call)  # a repeated webhook changes nothing

    # --- what happens to it ----------------------------------------------------------------

    def screened(self, call_id: str, user_id: str, connected: bool) -> bool:
        """A rung clinician's answer to the screen, as the service decided it. Returns
        True when no leg is left to ring: the call was declined by everyone."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                return False
            now = self._clock()
            leg = next(
                (g for g in call.legs if g.role == "clinician" and g.user_id == user_id), None
            )
            if leg is None or leg.state != "waiting":
                return False
            if not connected:
                leg.state = "declined"
                self._ring_next(call, now)
                return call.state == "ringing" and not self._live_legs(call)
            leg.state = "connected"
            call.answered_by = user_id
            if call.direction == "outbound":
                # Bridge: now the client's phone rings, under the business number.
                call.legs.append(SimLeg(call.client, "client", "", now, now + CLIENT_RING_SECONDS))
                return False
            for other in call.legs:
                if other is not leg and other.state == "waiting":
                    other.state = "ended"
            call.state, call.connected_at = "connected", now
            return False

    def client_answered(self, call_id: str) -> bool:
        """The client picked up a click-to-call's leg; False if nothing rang them."""
        with self._lock:
            call = self._calls.get(call_id)
            now = self._clock()
            leg = self._client_leg(call)
            if call is None or leg is None or not leg.ringing(now):
                return False
            leg.state = "connected"
            call.state, call.connected_at = "connected", now
            return True

    def hangup(self, call_id: str) -> Hangup | None:
        """Someone hung up: how the call ended, as the carrier reports it. None when the
        call is not under way (already over, or waiting for a voicemail)."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None or call.state not in ("ringing", "connected"):
                return None
            if call.state == "connected" and call.connected_at is not None:
                seconds = round(self._clock() - call.connected_at)
                return Hangup("answered", call.answered_by or None, seconds)
            # Before anyone talked: the caller gave up, or the client turned the call down.
            return Hangup("caller_hung_up" if call.direction == "inbound" else "declined", None, 0)

    def finished(
        self, call_id: str, *, outcome: str, voicemail: bool, greeting: str, max_seconds: int
    ) -> None:
        """The service's answer to call_finished: take the greeting, or end the call."""
        with self._lock:
            call = self._calls.get(call_id)
            if call is None:
                return
            for leg in call.legs:
                if leg.state in ("waiting", "connected"):
                    leg.state = "ended" if leg.state == "connected" else "missed"
            call.outcome = call.outcome or outcome
            if voicemail and call.state != "ended":
                call.state, call.greeting, call.max_voicemail_seconds = (
                    "voicemail",
                    greeting,
                    max_seconds,
                )
            else:
                self._end(call)

    def voicemail_left(self, call_id: str) -> None:
        with self._lock:
            call = self._calls.get(call_id)
            if call is not None:
                call.outcome = "voicemail"
                self._end(call)

    def expired(self) -> list[tuple[str, str]]:
        """Calls whose ringing ran out unanswered: (call id, outcome) for the driver to
        report, as a carrier's ring timeout would. Each is handed out once."""
        now = self._clock()
        due = []
        with self._lock:
            for call in self._calls.values():
                outcome = "" if call.outcome else self._unanswered(call, now)
                if outcome:
                    call.outcome = outcome
                    due.append((call.call_id, outcome))
        return due

    def _unanswered(self, call: SimCall, now: float) -> str:
        """How a still-ringing call ended if no phone rings for it any more, else ""."""
        if call.state != "ringing" or self._live_legs(call, now):
            return ""
        client = self._client_leg(call)
        if client is not None:  # outbound, the clinician on: the client's leg decides
            return "no_answer" if client.state == "waiting" and now >= client.ring_until else ""
        if any(leg.state == "connected" for leg in call.legs):
            return ""
        return "declined" if any(leg.state == "declined" for leg in call.legs) else "no_answer"

    def snapshot(self) -> list[dict[str, Any]]:
        """The calls under way or just over, newest first, as the pages poll them."""
        now = self._clock()
        with self._lock:
            for call_id in [
                c.call_id
                for c in self._calls.values()
                if c.ended_at is not None and now - c.ended_at > _KEEP_ENDED_SECONDS
            ]:
                del self._calls[call_id]
            calls = list(self._calls.values())
        return [self._view(call, now) for call in reversed(calls)]

    # --- helpers ---------------------------------------------------------------------------

    def _view(self, call: SimCall, now: float) -> dict[str, Any]:
        return {
            "call_id": call.call_id,
            "direction": call.direction,
            "state": call.state,
            "caller_id": call.caller_id,
            "client": call.client,
            "prompt": call.prompt,
            "placed_by": call.placed_by,
            "answered_by": call.answered_by,
            "outcome": call.outcome,
            "greeting": call.greeting,
            "max_voicemail_seconds": call.max_voicemail_seconds,
            "connected_seconds": (
                round(now - call.connected_at)
                if call.connected_at is not None and call.state == "connected"
                else 0
            ),
            "legs": [
                {
                    "to": leg.to,
                    "role": leg.role,
                    "user_id": leg.user_id,
                    "state": "ringing" if leg.ringing(now) else leg.state,
                }
                for leg in call.legs
            ],
        }

    def _live_legs(self, call: SimCall, now: float | None = None) -> list[SimLeg]:
        """Clinician legs that ring now or will (sequential ones not reached yet)."""
        at = self._clock() if now is None else now
        return [
            leg
            for leg in call.legs
            if leg.role == "clinician" and leg.state == "waiting" and at < leg.ring_until
        ]

    def _ring_next(self, call: SimCall, now: float) -> None:
        """Sequential: a decline moves the ring to the next cell at once."""
        if call.strategy != "sequential":
            return
        later = [leg for leg in call.legs if leg.state == "waiting" and leg.ring_from > now]
        for index, leg in enumerate(later):
            leg.ring_from = now + index * call.ring_seconds
            leg.ring_until = leg.ring_from + call.ring_seconds

    @staticmethod
    def _client_leg(call: SimCall | None) -> SimLeg | None:
        if call is None:
            return None
        return next((leg for leg in call.legs if leg.role == "client"), None)

    def _end(self, call: SimCall) -> None:
        call.state, call.ended_at = "ended", self._clock()
        for leg in call.legs:
            if leg.state in ("waiting", "connected"):
                leg.state = "ended"
