"""A simulated voice carrier for local mode, and the local-only routes that play its side.

The carrier half implements the VoiceCarrier port (functions/logic/voice_ports.py): a
click-to-call is recorded as its two legs (the clinician's cell first, then the client,
both under the business number), and a deleted recording is remembered. The routes half
(`VoiceDriver`) lets a browser or a test drive a call the way Twilio or Chime would,
through VoiceService's carrier-facing methods only. None of this is deployed: the routes
are in local/routes.py, never in infra.
"""

from __future__ import annotations

import base64
import io
import itertools
import json
import logging
import math
import struct
import threading
import uuid
import wave
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from functions.core.errors import NotFoundError, QuietlineError, ValidationError
from functions.core.voice import (
    CallOutcome,
    CallReport,
    IncomingCall,
    NextAction,
    NextStep,
    OutboundCallRequest,
    PlacedCall,
    PlanAction,
    ScreenDecision,
    VoicemailRecording,
    require_call_id,
)
from functions.logic.voice import VoiceService
from local.sim_switchboard import Switchboard

logger = logging.getLogger("quietline.local")

CARRIER_NAME = "simulated"
_SAMPLE_RATE = 8000  # telephone audio


@dataclass(frozen=True)
class CallLeg:
    """One leg the carrier dialled. Numbers are fictional in local mode; still never logged."""

    to: str
    caller_id: str
    role: str  # "clinician" (rung first, screened) or "client" (dialled once accepted)


@dataclass(frozen=True)
class SimulatedPlacedCall:
    call_id: str
    carrier_call_id: str
    clinician_user_id: str
    legs: tuple[CallLeg, ...]


class SimulatedVoiceCarrier:
    """Records what it was asked to do; a real carrier would dial."""

    name = CARRIER_NAME

    def __init__(self, switchboard: Switchboard | None = None) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._placed: list[SimulatedPlacedCall] = []
        self._deleted: list[str] = []
        # The phones this carrier rings: the cell and phone simulator pages poll it.
        self.switchboard = switchboard or Switchboard()

    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        legs = (
            CallLeg(request.clinician_number, request.caller_id, "clinician"),
            CallLeg(request.client_number, request.caller_id, "client"),
        )
        with self._lock:
            placed = SimulatedPlacedCall(
                request.call_id,
                f"SIMCALL{next(self._ids):08d}",
                request.clinician_user_id,
                legs,
            )
            self._placed.append(placed)
        self.switchboard.ring_outbound(
            request.call_id,
            caller_id=request.caller_id,
            clinician_user_id=request.clinician_user_id,
            clinician_number=request.clinician_number,
            client=request.client_number,
            prompt=request.screening_prompt,
            ring_seconds=request.ring_seconds,
        )
        return PlacedCall(placed.carrier_call_id)

    def delete_recording(self, carrier_recording_id: str) -> None:
        with self._lock:
            self._deleted.append(carrier_recording_id)

    def placed(self) -> list[SimulatedPlacedCall]:
        with self._lock:
            return list(self._placed)

    def deleted(self) -> list[str]:
        with self._lock:
            return list(self._deleted)


def tone_wav(seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV of a sine tone: the simulated caller's voicemail."""
    frames = int(_SAMPLE_RATE * seconds)
    samples = (
        int(12000 * math.sin(2 * math.pi * frequency * i / _SAMPLE_RATE)) for i in range(frames)
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(_SAMPLE_RATE)
        out.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()


def _recorded_wav(encoded: object) -> bytes:
    """The phone page's recording: base64 of a WAV file, checked to be one."""
    if not isinstance(encoded, str):
        raise ValidationError("audio_base64", "must be base64 text")
    try:
        audio = base64.b64decode(encoded, validate=True)
        with wave.open(io.BytesIO(audio), "rb") as recording:
            if recording.getnframes() == 0:
                raise ValidationError("audio_base64", "holds no audio")
    except (ValueError, EOFError, wave.Error):
        raise ValidationError("audio_base64", "is not a base64 WAV file") from None
    return audio


class _Services(Protocol):
    def voice_service(self) -> VoiceService: ...


# Local-only paths (local/routes.py). The call id (tenant/conversation/call) holds slashes,
# so it travels in the JSON body, never in the path.
VOICE_PREFIX = "/local/voice"
INCOMING_PATH = f"{VOICE_PREFIX}/incoming"
SCREEN_PATH = f"{VOICE_PREFIX}/screen"
FINISHED_PATH = f"{VOICE_PREFIX}/finished"
VOICEMAIL_PATH = f"{VOICE_PREFIX}/voicemail"
PLACED_PATH = f"{VOICE_PREFIX}/placed"
# The simulator pages' side: what rings, a client picking up, anyone hanging up.
CALLS_PATH = f"{VOICE_PREFIX}/calls"
ANSWER_PATH = f"{VOICE_PREFIX}/answer"
HANGUP_PATH = f"{VOICE_PREFIX}/hangup"


def _respond(status: int, body: Any) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }


class VoiceDriver:
    """The carrier's side of a call, over HTTP: each route is one carrier event."""

    def __init__(self, runtime: _Services, carrier: SimulatedVoiceCarrier) -> None:
        self._runtime = runtime
        self._carrier = carrier
        self._board = carrier.switchboard
        # One carrier event at a time: the switchboard and the service move together.
        self._lock = threading.Lock()

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            with self._lock:
                self._ring_timeouts()
                return self._dispatch(event)
        except ValidationError as error:
            return _respond(400, {"error": str(error)})  # names the field, never a value
        except NotFoundError:
            return _respond(404, {"error": "call not found"})
        except QuietlineError as error:
            return _respond(500, {"error": type(error).__name__})

    def _dispatch(self, event: dict[str, Any]) -> dict[str, Any]:
        path = str(event.get("resource") or event.get("path"))
        if event.get("httpMethod") == "GET" and path == PLACED_PATH:
            return _respond(200, [asdict(p) for p in self._carrier.placed()])
        if event.get("httpMethod") == "GET" and path == CALLS_PATH:
            return _respond(200, self._board.snapshot())
        action = {
            INCOMING_PATH: self._incoming,
            SCREEN_PATH: self._screen,
            FINISHED_PATH: self._finished,
            VOICEMAIL_PATH: self._voicemail,
            ANSWER_PATH: self._answer,
            HANGUP_PATH: self._hangup,
        }.get(path)
        if action is None:
            return _respond(404, {"error": "not found"})
        try:
            body = json.loads(event.get("body") or "{}")
        except json.JSONDecodeError:
            raise ValidationError("body", "is not JSON") from None
        if not isinstance(body, dict):
            raise ValidationError("body", "must be a JSON object")
        return action(body)

    def _service(self) -> VoiceService:
        return self._runtime.voice_service()

    def _incoming(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"from", "to"}: a client dials a business number; answers the plan."""
        plan = self._service().incoming_call(
            IncomingCall(
                CARRIER_NAME,
                str(body.get("carrier_call_id") or f"SIMIN-{uuid.uuid4()}"),
                body.get("to"),  # type: ignore[arg-type]  # IncomingCall validates
                body.get("from"),  # type: ignore[arg-type]
                datetime.now(UTC).isoformat(),
            )
        )
        if plan.action is PlanAction.RING:
            self._board.ring_inbound(
                plan.call_id,
                client=str(body.get("from")),
                caller_id=plan.caller_id,
                targets=[(t.user_id, t.number) for t in plan.targets],
                strategy=plan.strategy.value,
                ring_seconds=plan.ring_seconds,
                prompt=plan.screening_prompt,
            )
        elif plan.action is PlanAction.VOICEMAIL:
            self._board.straight_to_voicemail(
                plan.call_id,
                client=str(body.get("from")),
                caller_id=plan.caller_id,
                greeting=plan.greeting.text,
                max_seconds=plan.max_voicemail_seconds,
            )
        return _respond(
            200,
            {
                "call_id": plan.call_id,
                "action": plan.action.value,
                # Who would be rung, by user id: the cells stay with the carrier.
                "targets": [t.user_id for t in plan.targets],
                "strategy": plan.strategy.value,
                "ring_seconds": plan.ring_seconds,
                "screening_prompt": plan.screening_prompt,
                "greeting": plan.greeting.text,
                # Whether a carrier would play the practice's upload instead of the text
                "greeting_recording": plan.greeting.recording_key is not None,
            },
        )

    def _screen(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"call_id", "user_id", "accepted"}: a rung clinician's key press."""
        accepted = body.get("accepted")
        if not isinstance(accepted, bool):
            raise ValidationError("accepted", "must be true or false")
        user_id = body.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise ValidationError("user_id", "is required")
        call_id = str(body.get("call_id"))
        decision = self._service().screen_answer(call_id, user_id, accepted)
        connected = decision is ScreenDecision.CONNECT
        if self._board.screened(call_id, user_id, connected):
            self._report(CallReport(call_id, CallOutcome.DECLINED))  # everyone declined
        return _respond(200, {"decision": decision.value})

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"call_id"}: the client picked up a click-to-call (the phone page)."""
        if not self._board.client_answered(require_call_id(body.get("call_id"))):
            raise NotFoundError("nothing rings the client on that call")
        return _respond(200, {"connected": True})

    def _hangup(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"call_id"}: either end hung up; the carrier reports how the call went."""
        call_id = require_call_id(body.get("call_id"))
        ended = self._board.hangup(call_id)
        if ended is None:
            raise NotFoundError("no call under way")
        report = CallReport(
            call_id,
            CallOutcome(ended.outcome),
            answered_by=ended.answered_by,
            duration_seconds=ended.duration_seconds,
        )
        return _respond(200, self._step(self._report(report)))

    def _ring_timeouts(self) -> None:
        """The ring time ran out on these calls: report them unanswered, as a carrier's
        timer would. Checked on every carrier event (the pages poll once a second)."""
        for call_id, outcome in self._board.expired():
            try:
                self._report(CallReport(call_id, CallOutcome(outcome)))
            except QuietlineError as error:
                logger.warning("ring timeout not reported", extra={"error": type(error).__name__})

    def _report(self, report: CallReport) -> NextStep:
        """call_finished, and the switchboard told what comes next."""
        step = self._service().call_finished(report)
        self._board.finished(
            report.call_id,
            outcome=report.outcome.value,
            voicemail=step.action is NextAction.VOICEMAIL,
            greeting=step.greeting.text,
            max_seconds=step.max_voicemail_seconds,
        )
        return step

    @staticmethod
    def _step(step: NextStep) -> dict[str, Any]:
        return {
            "action": step.action.value,
            "greeting": step.greeting.text,
            "greeting_recording": step.greeting.recording_key is not None,
            "max_voicemail_seconds": step.max_voicemail_seconds,
        }

    def _finished(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"call_id", "outcome", "answered_by"?, "duration_seconds"?}: the ringing leg ended."""
        try:
            outcome = CallOutcome(str(body.get("outcome")))
        except ValueError:
            raise ValidationError("outcome", "is not a call outcome") from None
        step = self._report(
            CallReport(
                str(body.get("call_id")),
                outcome,
                answered_by=body.get("answered_by"),
                duration_seconds=body.get("duration_seconds", 0),
            )
        )
        return _respond(200, self._step(step))

    def _voicemail(self, body: dict[str, Any]) -> dict[str, Any]:
        """{"call_id", "seconds"?, "audio_base64"?}: the caller left a message, a generated
        tone, or what the phone page recorded from the microphone (a WAV)."""
        seconds = body.get("seconds", 1)
        if not isinstance(seconds, int) or isinstance(seconds, bool) or not 1 <= seconds <= 30:
            raise ValidationError("seconds", "must be 1 to 30")
        recorded = body.get("audio_base64")
        audio = tone_wav(seconds) if recorded is None else _recorded_wav(recorded)
        self._service().voicemail_recorded(
            VoicemailRecording(
                str(body.get("call_id")),
                audio,
                "audio/wav",
                seconds,
                carrier_recording_id=f"SIMREC-{uuid.uuid4()}",
            )
        )
        self._board.voicemail_left(str(body.get("call_id")))
        return _respond(201, {"stored": True})
