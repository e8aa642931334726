"""Amazon Chime SDK PSTN audio: SIP media application events -> VoiceService -> actions.

The SIP media application (SMA) invokes the call-control Lambda with one event per step
of a call (NEW_INBOUND_CALL, ACTION_SUCCESSFUL, ACTION_FAILED, HANGUP, CALL_ANSWERED, ...)
and runs the actions it answers with. Between events the only state is the transaction's
TransactionAttributes, which AWS echoes into every later event: ours hold ids and a phase,
never a number (the numbers are re-derived from the service each time; docs/voice.md).

Screening: CallAndBridge has no whisper hook, so the clinician's leg is screened with
SpeakAndGetDigits addressed to LEG-B right after it answers; no "1" hangs LEG-B up and
the caller moves on to the next clinician or the greeting. Clinicians are rung one after
another (CallAndBridge documents one endpoint). Voicemail: RecordAudio into the staging
bucket (SSE-S3; the service cannot write under our key), read back at once, sealed by the
service, then the staged object deleted.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from functions.core.clock import Clock, epoch_ms, iso
from functions.core.errors import (
    ValidationError,
)
from functions.core.voice import (
    CallOutcome,
    CallPlan,
    CallReport,
    Greeting,
    IncomingCall,
    NextAction,
    NextStep,
    OutboundLeg,
    PlanAction,
    ScreenDecision,
    VoicemailRecording,
    require_call_id,
)

CARRIER = "chime"
ARGUMENT_CALL_ID = "call_id"  # the only entry of CreateSipMediaApplicationCall's ArgumentsMap
STAGING_PREFIX = "staged"  # RecordAudio writes under staged/<call id>/
SCHEMA_VERSION = "1.0"
_VOICE = {"Engine": "neural", "LanguageCode": "en-US", "VoiceId": "Joanna"}
_ACCEPT_DIGIT = "1"
_RECORDING_CONTENT_TYPE = "audio/wav"  # RecordAudio writes WAV (docs/voice.md, verify)

# TransactionAttributes keys (strings only, ids only).
ATTR_CALL = "call_id"
ATTR_DIRECTION = "direction"  # "in" | "out"
ATTR_PHASE = "phase"
ATTR_TARGET = "target"  # index into the plan's targets (inbound ringing)
ATTR_USER = "user_id"  # the clinician on the leg being screened or talking
ATTR_BRIDGED_AT = "bridged_at_ms"


class Phase:
    RING = "ring"  # CallAndBridge to a clinician under way
    SCREEN = "screen"  # SpeakAndGetDigits on the clinician's leg
    TALK = "talk"  # bridged and accepted
    VOICEMAIL = "voicemail"  # greeting + RecordAudio
    DIAL = "dial"  # click-to-call: ringing the clinician's cell
    BRIDGE_OUT = "bridge_out"  # click-to-call: CallAndBridge to the client
    DONE = "done"


class VoiceCalls(Protocol):
    """The part of VoiceService (functions/logic/voice.py) an adapter drives."""

    def incoming_call(self, call: IncomingCall) -> CallPlan: ...

    def screen_answer(self, call_id: str, user_id: str, accepted: bool) -> ScreenDecision: ...

    def call_finished(self, report: CallReport) -> NextStep: ...

    def voicemail_recorded(self, recording: VoicemailRecording) -> None: ...

    def outbound_leg(self, call_id: str) -> OutboundLeg: ...


class StagingObjects(Protocol):
    """The RecordAudio staging bucket (S3 in AWS)."""

    def read(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class Participant:
    call_id: str
    tag: str  # LEG-A | LEG-B
    status: str
    from_number: str = field(default="", repr=False)
    to_number: str = field(default="", repr=False)


@dataclass(frozen=True)
class SmaEvent:
    """One SMA invocation, parsed; numbers stay in `participants` (excluded from repr)."""

    event_type: str
    transaction_id: str
    attributes: Mapping[str, str]
    participants: tuple[Participant, ...]
    action_type: str = ""
    action_data: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def leg(self, tag: str) -> Participant | None:
        return next((p for p in self.participants if p.tag == tag), None)

    def connected(self, tag: str) -> Participant | None:
        leg = self.leg(tag)
        return leg if leg is not None and leg.status != "Disconnected" else None


def _text(value: object, name: str, *, max_length: int = 256) -> str:
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise ValidationError(name, "is required")
    return value


def parse_event(event: object) -> SmaEvent:
    """The SMA's invocation event; ValidationError naming the field (never a value)."""
    if not isinstance(event, Mapping) or event.get("SchemaVersion") != SCHEMA_VERSION:
        raise ValidationError("SchemaVersion", "must be 1.0")
    details = event.get("CallDetails")
    if not isinstance(details, Mapping):
        raise ValidationError("CallDetails", "must be an object")
    raw_attributes = details.get("TransactionAttributes") or {}
    if not isinstance(raw_attributes, Mapping):
        raise ValidationError("TransactionAttributes", "must be an object")
    raw_participants = details.get("Participants") or []
    if not isinstance(raw_participants, list):
        raise ValidationError("Participants", "must be a list")
    participants = tuple(
        Participant(
            call_id=_text(p.get("CallId"), "Participants.CallId"),
            tag=_text(p.get("ParticipantTag"), "Participants.ParticipantTag"),
            status=str(p.get("Status") or ""),
            from_number=str(p.get("From") or ""),
            to_number=str(p.get("To") or ""),
        )
        for p in raw_participants
        if isinstance(p, Mapping)
    )
    action = event.get("ActionData")
    action_data: Mapping[str, Any] = action if isinstance(action, Mapping) else {}
    return SmaEvent(
        event_type=_text(event.get("InvocationEventType"), "InvocationEventType", max_length=64),
        transaction_id=_text(details.get("TransactionId"), "TransactionId", max_length=128),
        attributes={str(k): str(v) for k, v in raw_attributes.items()},
        participants=participants,
        action_type=str(action_data.get("Type") or ""),
        action_data=action_data,
    )


# --- actions (documented shapes: docs.aws.amazon.com/chime-sdk/latest/dg/*.html) ----------


def _speak(call_id: str, text: str) -> dict[str, Any]:
    return {
        "Type": "Speak",
        "Parameters": {"CallId": call_id, "Text": text, "TextType": "text", **_VOICE},
    }


def _screen(call_id: str, prompt: str) -> dict[str, Any]:
    return {
        "Type": "SpeakAndGetDigits",
        "Parameters": {
            "CallId": call_id,
            "InputDigitsRegex": "^[0-9*#]$",
            "SpeechParameters": {"Text": prompt, **_VOICE},
            "FailureSpeechParameters": {"Text": prompt, **_VOICE},
            "MinNumberOfDigits": 1,
            "MaxNumberOfDigits": 1,
            "Repeat": 2,
            "RepeatDurationInMilliseconds": 5000,
        },
    }


def _bridge(caller_id: str, number: str, timeout_seconds: int) -> dict[str, Any]:
    return {
        "Type": "CallAndBridge",
        "Parameters": {
            "CallTimeoutSeconds": max(1, min(timeout_seconds, 120)),
            "CallerIdNumber": caller_id,  # the business number: ours, so allowed
            "Endpoints": [{"BridgeEndpointType": "PSTN", "Uri": number}],
        },
    }


def _hangup(call_id: str) -> dict[str, Any]:
    return {"Type": "Hangup", "Parameters": {"CallId": call_id, "SipResponseCode": "0"}}


def _hang_up_all(event: SmaEvent) -> list[dict[str, Any]]:
    """Every live leg: one leg hanging up leaves the other billed until we end it."""
    return [_hangup(p.call_id) for p in event.participants if p.status != "Disconnected"]


def staging_prefix(call_id: str) -> str:
    return f"{STAGING_PREFIX}/{require_call_id(call_id)}/"


def call_id_of_staged(key: str) -> str:
    """Our call id from a staged recording's key (staged/<tenant>/<conv>/<call>/<file>)."""
    parts = key.split("/")
    if len(parts) != 5 or parts[0] != STAGING_PREFIX:
        raise ValidationError("key", "is not a staged recording")
    return require_call_id("/".join(parts[1:4]))


def wav_seconds(audio: bytes) -> int:
    """A WAV's duration, rounded; 0 if it is not a WAV we can read."""
    try:
        with wave.open(io.BytesIO(audio)) as reader:
            frames: int = reader.getnframes()
            rate: int = reader.getframerate()
            return round(frames / rate)
    except (wave.Error, EOFError, ZeroDivisionError):
        return 0


@dataclass
class Answer:
    """The Lambda's answer: actions to run and the attributes to carry on."""

    actions: list[dict[str, Any]]
    attributes: dict[str, str]

    def to_response(self) -> dict[str, Any]:
        return {
            "SchemaVersion": SCHEMA_VERSION,
            "Actions": self.actions,
            "TransactionAttributes": self.attributes,
        }


@dataclass
class ChimeCallControl:
    """Turns SMA events into VoiceService calls and its answers into SMA actions."""

    service: VoiceCalls
    staging: StagingObjects
    staging_bucket: str
    clock: Clock  # received_at and talk time
    # Where uploaded greetings live (the voicemail bucket); None: always speak the text.
    greeting_bucket: str | None = None

    def handle(self, event: SmaEvent) -> Answer:
        state = dict(event.attributes)
        kind = event.event_type
        if kind == "NEW_INBOUND_CALL":
            return self._new_inbound(event)
        if kind == "NEW_OUTBOUND_CALL":
            return self._new_outbound(event)
        if ATTR_CALL not in state:
            return Answer([], state)  # not a call we placed or accepted: nothing to do
        if kind == "CALL_ANSWERED" and state.get(ATTR_PHASE) == Phase.DIAL:
            return self._clinician_answered(event, state)
        if kind in ("ACTION_SUCCESSFUL", "ACTION_FAILED"):
            return self._action_result(event, state, ok=kind == "ACTION_SUCCESSFUL")
        # HANGUP; RINGING, CALL_UPDATE_REQUESTED and INVALID_LAMBDA_RESPONSE change nothing.
        return self._hangup(event, state) if kind == "HANGUP" else Answer([], state)

    # --- inbound --------------------------------------------------------------------------

    def _incoming(self, event: SmaEvent) -> IncomingCall:
        leg_a = self._leg_a(event)
        return IncomingCall(
            carrier=CARRIER,
            carrier_call_id=event.transaction_id,
            business_number=leg_a.to_number,
            caller=leg_a.from_number,
            received_at=iso(self.clock.now()),
        )

    def _new_inbound(self, event: SmaEvent) -> Answer:
        plan = self.service.incoming_call(self._incoming(event))
        leg_a = self._leg_a(event).call_id
        if plan.action is PlanAction.REJECT:
            return Answer([_hangup(leg_a)], {})
        state = {ATTR_CALL: plan.call_id, ATTR_DIRECTION: "in"}
        if plan.action is PlanAction.VOICEMAIL:
            return self._voicemail(leg_a, state, plan.greeting, plan.max_voicemail_seconds)
        return self._ring(event, state, plan, 0)

    def _ring(self, event: SmaEvent, state: dict[str, str], plan: CallPlan, index: int) -> Answer:
        target = plan.targets[index]
        state |= {ATTR_PHASE: Phase.RING, ATTR_TARGET: str(index), ATTR_USER: target.user_id}
        return Answer([_bridge(plan.caller_id, target.number, plan.ring_seconds)], state)

    def _voicemail(
        self, leg_a: str, state: dict[str, str], greeting: Greeting, max_seconds: int
    ) -> Answer:
        record = {
            "Type": "RecordAudio",
            "Parameters": {
                "CallId": leg_a,
                "DurationInSeconds": max_seconds,
                "SilenceDurationInSeconds": 5,
                "SilenceThreshold": 100,
                "RecordingTerminators": ["#"],
                "RecordingDestination": {
                    "Type": "S3",
                    "BucketName": self.staging_bucket,
                    "Prefix": staging_prefix(state[ATTR_CALL]),
                },
            },
        }
        state = {k: v for k, v in state.items() if k in (ATTR_CALL, ATTR_DIRECTION)}
        state[ATTR_PHASE] = Phase.VOICEMAIL
        return Answer([self._greet(leg_a, greeting), record], state)

    def _greet(self, leg_a: str, greeting: Greeting) -> dict[str, Any]:
        """PlayAudio of the practice's recording (WAV only: PlayAudio plays WAV) from the
        voicemail bucket, which admits the Chime service to greetings/* only; else Speak."""
        key = greeting.recording_key
        if not (self.greeting_bucket and key and key.endswith(".wav")):
            return _speak(leg_a, greeting.text)
        return {
            "Type": "PlayAudio",
            "Parameters": {
                "CallId": leg_a,
                "AudioSource": {"Type": "S3", "BucketName": self.greeting_bucket, "Key": key},
            },
        }

    def _after_ringing(
        self, event: SmaEvent, state: dict[str, str], outcome: CallOutcome, actions: list[Any]
    ) -> Answer:
        """The current clinician did not take the call: ring the next, else finish."""
        call_id = state[ATTR_CALL]
        if state.get(ATTR_DIRECTION) == "in":
            plan = self.service.incoming_call(self._incoming(event))  # idempotent: re-plan
            index = int(state.get(ATTR_TARGET, "0")) + 1
            if plan.action is PlanAction.RING and index < len(plan.targets):
                answer = self._ring(event, state, plan, index)
                return Answer(actions + answer.actions, answer.attributes)
        step = self.service.call_finished(
            CallReport(call_id, outcome, carrier_call_id=event.transaction_id)
        )
        return self._next_step(event, state, step, actions)

    def _next_step(
        self, event: SmaEvent, state: dict[str, str], step: NextStep, actions: list[Any]
    ) -> Answer:
        leg_a = event.connected("LEG-A")
        if step.action is NextAction.VOICEMAIL and leg_a is not None:
            answer = self._voicemail(
                leg_a.call_id, state, step.greeting, step.max_voicemail_seconds
            )
            return Answer(actions + answer.actions, answer.attributes)
        return Answer(actions + _hang_up_all(event), state | {ATTR_PHASE: Phase.DONE})

    # --- action results -------------------------------------------------------------------

    def _action_result(self, event: SmaEvent, state: dict[str, str], *, ok: bool) -> Answer:
        phase, kind = state.get(ATTR_PHASE), event.action_type
        if kind == "CallAndBridge" and phase == Phase.RING:
            return self._clinician_leg(event, state, ok=ok)
        if kind == "SpeakAndGetDigits" and phase == Phase.SCREEN:
            accepted = ok and event.action_data.get("ReceivedDigits") == _ACCEPT_DIGIT
            return self._screened(event, state, accepted)
        if kind == "CallAndBridge" and phase == Phase.BRIDGE_OUT:
            return self._client_leg(event, state, ok=ok)
        if kind == "RecordAudio" and phase == Phase.VOICEMAIL:
            if ok:
                self._store_recording(state[ATTR_CALL], event)
            return Answer(_hang_up_all(event), state | {ATTR_PHASE: Phase.DONE})
        if kind == "PlayAudio" and phase == Phase.VOICEMAIL and not ok:
            # The SMA drops the actions after a failed one: speak the text, then record.
            plan = self.service.incoming_call(self._incoming(event))  # idempotent
            spoken = Greeting(plan.greeting.text)
            leg_a = self._leg_a(event).call_id
            return self._voicemail(leg_a, state, spoken, plan.max_voicemail_seconds)
        return Answer([], state)  # Speak, Hangup, or a late result: nothing changes

    def _clinician_leg(self, event: SmaEvent, state: dict[str, str], *, ok: bool) -> Answer:
        """Inbound CallAndBridge result: the clinician answered (screen them) or did not."""
        leg_b = event.connected("LEG-B") if ok else None
        if leg_b is None:
            outcome = CallOutcome.FAILED if ok else _bridge_failure(event)
            return self._after_ringing(event, state, outcome, [])
        plan = self.service.incoming_call(self._incoming(event))  # idempotent: the prompt
        state[ATTR_PHASE] = Phase.SCREEN
        return Answer([_screen(leg_b.call_id, plan.screening_prompt)], state)

    def _client_leg(self, event: SmaEvent, state: dict[str, str], *, ok: bool) -> Answer:
        """Click-to-call CallAndBridge result: the client answered, or the call ends."""
        if ok:
            return Answer([], state | {ATTR_PHASE: Phase.TALK, **self._bridged_now()})
        leg_a = self._leg_a(event).call_id
        self.service.call_finished(
            CallReport(
                state[ATTR_CALL], _bridge_failure(event), carrier_call_id=event.transaction_id
            )
        )
        sorry = _speak(leg_a, "The call could not be connected. Goodbye.")
        return Answer([sorry, _hangup(leg_a)], state | {ATTR_PHASE: Phase.DONE})

    def _clinician_answered(self, event: SmaEvent, state: dict[str, str]) -> Answer:
        """Click-to-call: the clinician's cell answered; screen before dialling the client."""
        leg = self.service.outbound_leg(state[ATTR_CALL])
        state |= {ATTR_PHASE: Phase.SCREEN, ATTR_USER: leg.clinician_user_id}
        return Answer([_screen(self._leg_a(event).call_id, leg.screening_prompt)], state)

    def _screened(self, event: SmaEvent, state: dict[str, str], accepted: bool) -> Answer:
        call_id, user_id = state[ATTR_CALL], state.get(ATTR_USER, "")
        if state.get(ATTR_DIRECTION) == "out":
            leg_a = self._leg_a(event).call_id
            leg = self.service.outbound_leg(call_id)
            if self.service.screen_answer(call_id, leg.clinician_user_id, accepted) is (
                ScreenDecision.CONNECT
            ):
                caller_id = self._leg_a(event).from_number  # the business number we dialled from
                state[ATTR_PHASE] = Phase.BRIDGE_OUT
                return Answer([_bridge(caller_id, leg.client_number, 30)], state)
            self.service.call_finished(
                CallReport(call_id, CallOutcome.DECLINED, carrier_call_id=event.transaction_id)
            )
            return Answer([_hangup(leg_a)], state | {ATTR_PHASE: Phase.DONE})
        decision = self.service.screen_answer(call_id, user_id, accepted)
        if decision is ScreenDecision.CONNECT:
            return Answer([], state | {ATTR_PHASE: Phase.TALK, **self._bridged_now()})
        leg_b = event.connected("LEG-B")
        drop = [_hangup(leg_b.call_id)] if leg_b is not None else []
        return self._after_ringing(event, state, CallOutcome.DECLINED, drop)

    def _store_recording(self, call_id: str, event: SmaEvent) -> None:
        destination = event.action_data.get("RecordingDestination")
        key = destination.get("Key") if isinstance(destination, Mapping) else None
        if not isinstance(key, str) or not key:
            raise ValidationError("RecordingDestination.Key", "is required")
        self.store_staged(call_id, key)

    def store_staged(self, call_id: str, key: str) -> None:
        """Staged audio -> VoiceService (sealed, stored; it then deletes the staged copy).
        Raises if storing failed: the staged object stays for the sweep to retry."""
        audio = self.staging.read(key)
        self.service.voicemail_recorded(
            VoicemailRecording(
                call_id,
                audio,
                _RECORDING_CONTENT_TYPE,
                min(wav_seconds(audio), 600),
                carrier_recording_id=key,
            )
        )

    # --- hang-ups -------------------------------------------------------------------------

    def _hangup(self, event: SmaEvent, state: dict[str, str]) -> Answer:
        phase = state.get(ATTR_PHASE)
        params = event.action_data.get("Parameters")
        who = params.get("ParticipantTag") if isinstance(params, Mapping) else None
        call_id = state[ATTR_CALL]
        others = _hang_up_all(event)
        if phase == Phase.TALK:
            # Either side hung up: the other leg must be ended by us (it is billed until).
            self.service.call_finished(
                CallReport(
                    call_id,
                    CallOutcome.ANSWERED,
                    answered_by=state.get(ATTR_USER) or None,
                    duration_seconds=self._talk_seconds(state),
                    carrier_call_id=event.transaction_id,
                )
            )
            return Answer(others, state | {ATTR_PHASE: Phase.DONE})
        if phase in (Phase.RING, Phase.SCREEN) and state.get(ATTR_DIRECTION) == "in":
            if who == "LEG-B":
                return self._after_ringing(event, state, CallOutcome.DECLINED, [])
            self.service.call_finished(
                CallReport(
                    call_id, CallOutcome.CALLER_HUNG_UP, carrier_call_id=event.transaction_id
                )
            )
            return Answer(others, state | {ATTR_PHASE: Phase.DONE})
        if phase in (Phase.DIAL, Phase.SCREEN, Phase.BRIDGE_OUT):
            outcome = CallOutcome.NO_ANSWER if phase == Phase.DIAL else CallOutcome.DECLINED
            self.service.call_finished(
                CallReport(call_id, outcome, carrier_call_id=event.transaction_id)
            )
            return Answer(others, state | {ATTR_PHASE: Phase.DONE})
        # VOICEMAIL: RecordAudio reports its own result; DONE: our own Hangup coming back.
        return Answer([], state)

    # --- outbound -------------------------------------------------------------------------

    def _new_outbound(self, event: SmaEvent) -> Answer:
        params = event.action_data.get("Parameters")
        arguments = params.get("Arguments") if isinstance(params, Mapping) else None
        raw = arguments.get(ARGUMENT_CALL_ID) if isinstance(arguments, Mapping) else None
        call_id = require_call_id(raw, "Arguments.call_id")
        return Answer([], {ATTR_CALL: call_id, ATTR_DIRECTION: "out", ATTR_PHASE: Phase.DIAL})

    # --- helpers --------------------------------------------------------------------------

    @staticmethod
    def _leg_a(event: SmaEvent) -> Participant:
        leg = event.leg("LEG-A")
        if leg is None:
            raise ValidationError("Participants", "has no LEG-A")
        return leg

    def _bridged_now(self) -> dict[str, str]:
        return {ATTR_BRIDGED_AT: str(epoch_ms(self.clock.now()))}

    def _talk_seconds(self, state: Mapping[str, str]) -> int:
        try:
            started = int(state.get(ATTR_BRIDGED_AT, ""))
        except ValueError:
            return 0
        return max(0, min(86_400, round((epoch_ms(self.clock.now()) - started) / 1000)))


def _bridge_failure(event: SmaEvent) -> CallOutcome:
    error = event.action_data.get("ErrorType")
    return CallOutcome.NO_ANSWER if error == "CallNotAnswered" else CallOutcome.FAILED
