"""Twilio Programmable Voice webhooks behind API Gateway (POST /webhooks/twilio/voice/...).

As for the SMS webhooks: size, encoding and Content-Type are checked first (413/415/400),
then X-Twilio-Signature against the URL Twilio signed before any field or query parameter
is acted on (403, nothing stored), then the fields (400 naming the field). Each route
answers TwiML built from what VoiceService decides (docs/voice.md, "Twilio"). A 5xx means
"retry": the recording callback answers 503 when the fetch, the store or the delete
failed, and Twilio calls again (the fragment on the URL asks it to); nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from functions.carriers import twilio_voice as tv
from functions.carriers.timestamps import utc_now
from functions.container import Container
from functions.core.errors import (
    CarrierError,
    CryptoError,
    DependencyError,
    NotFoundError,
    RequestBodyError,
    SignatureError,
    ThrottledError,
    ValidationError,
)
from functions.core.observability import logger
from functions.core.phone import require_e164
from functions.core.voice import (
    CallOutcome,
    CallReport,
    Greeting,
    IncomingCall,
    NextAction,
    NextStep,
    PlanAction,
    RingStrategy,
    ScreenDecision,
    VoicemailRecording,
    require_call_id,
)
from functions.dal import secrets  # noqa: F401 - the auth token is read on every request
from functions.handlers import _boundary
from functions.handlers._entry import SCHEDULE_SOURCE, EntryPoint
from functions.handlers._twilio import Query, error, response, verified_form
from functions.logic.voice import VoiceService

_TWIML = "text/xml"
_USER_ID_MAX = 128
# Failures worth Twilio's retry: its copy of the recording stays until ours is stored.
_RETRYABLE = (CarrierError, DependencyError, ThrottledError, CryptoError)


@runtime_checkable
class RecordingSource(Protocol):
    """The adapter's fetch of a finished recording (TwilioVoiceCarrier)."""

    def fetch_recording(self, recording_sid: str) -> tv.FetchedRecording: ...


class _Request:
    """One verified webhook: its form fields, our query parameters, and our public base."""

    def __init__(self, params: dict[str, list[str]], query: Query, base_url: str) -> None:
        self.params, self.query, self.base_url = params, query, base_url
        # A stored greeting's short-lived URL for <Play>; set by _dispatch where the
        # voicemail bucket is configured (None: the greeting text is spoken).
        self.greeting_url: Callable[[str], str] | None = None

    def play_url(self, greeting: Greeting) -> str | None:
        if greeting.recording_key is None or self.greeting_url is None:
            return None
        return self.greeting_url(greeting.recording_key)

    def field(self, name: str, *, required: bool = True) -> str:
        values = self.params.get(name, [])
        if len(values) > 1:
            raise ValidationError(name, "must appear exactly once")
        if required and (not values or not values[0]):
            raise ValidationError(name, "is required")
        return values[0] if values else ""

    def arg(self, name: str) -> str:
        values = self.query.get(name) or []
        if len(values) != 1 or not values[0]:
            raise ValidationError(name, "is required once in the query")
        return values[0]

    def call_id(self) -> str:
        return require_call_id(self.arg(tv.CALL_PARAM), tv.CALL_PARAM)

    def user_id(self) -> str:
        user = self.arg(tv.USER_PARAM)
        if len(user) > _USER_ID_MAX or not user.isprintable():
            raise ValidationError(tv.USER_PARAM, "is not a user id")
        return user

    def seconds(self, name: str) -> int:
        text = self.field(name, required=False) or "0"
        if not text.isdigit() or len(text) > 6:
            raise ValidationError(name, "must be a whole number of seconds")
        return int(text)

    def incoming(self) -> IncomingCall:
        return IncomingCall(
            carrier=tv.CARRIER,
            carrier_call_id=self.field("CallSid"),
            business_number=self.field("To"),
            caller=self.field("From"),
            received_at=utc_now(),
        )


# --- routes ------------------------------------------------------------------------------
def incoming(request: _Request, service: VoiceService) -> str:
    plan = service.incoming_call(request.incoming())
    if plan.action is PlanAction.REJECT:
        return tv.reject_twiml()
    if plan.action is PlanAction.VOICEMAIL:
        return tv.voicemail_twiml(
            plan.call_id,
            plan.greeting,
            plan.max_voicemail_seconds,
            request.base_url,
            greeting_url=request.play_url(plan.greeting),
        )
    return tv.ring_twiml(plan, request.base_url)


def screen(request: _Request, service: VoiceService) -> str:
    prompt = request.query.get(tv.PROMPT_PARAM) or [""]
    return tv.screen_twiml(
        request.call_id(),
        request.user_id(),
        prompt[0],
        request.base_url,
        path=tv.SCREEN_ANSWER_PATH,
    )


def screen_answer(request: _Request, service: VoiceService) -> str:
    accepted = request.field("Digits", required=False) == tv.ACCEPT_DIGIT
    decision = service.screen_answer(request.call_id(), request.user_id(), accepted)
    return tv.connect_twiml() if decision is ScreenDecision.CONNECT else tv.hangup_twiml()


def dial_done(request: _Request, service: VoiceService) -> str:
    """The inbound <Dial> ended. Whether anyone accepted the screen only the service knows:
    asking incoming_call again (idempotent on the CallSid) gives RING while nobody has.
    Then ring the next clinician (sequential), or report the outcome and follow the step."""
    call_id = request.call_id()
    leg = request.arg(tv.LEG_PARAM)
    if not leg.isdigit() or int(leg) >= tv.MAX_SIMULTANEOUS_NUMBERS * 10:
        raise ValidationError(tv.LEG_PARAM, "is not a leg index")
    caller_gone = request.field("CallStatus", required=False) == "completed"
    plan = service.incoming_call(request.incoming())
    ours = plan.call_id == call_id
    still_ringing = ours and plan.action is PlanAction.RING
    next_leg = int(leg) + 1
    sequential = plan.strategy is RingStrategy.SEQUENTIAL
    if still_ringing and not caller_gone and sequential and next_leg < len(plan.targets):
        return tv.ring_twiml(plan, request.base_url, leg=next_leg)
    outcome = tv.inbound_outcome(
        request.field("DialCallStatus", required=False),
        accepted=ours and not still_ringing,
        caller_gone=caller_gone,
    )
    step = service.call_finished(
        CallReport(
            call_id,
            outcome,
            duration_seconds=request.seconds("DialCallDuration")
            if outcome is CallOutcome.ANSWERED
            else 0,
            carrier_call_id=request.field("CallSid"),
        )
    )
    return _follow(step, call_id, request, caller_gone=caller_gone)


def _follow(step: NextStep, call_id: str, request: _Request, *, caller_gone: bool) -> str:
    if step.action is NextAction.VOICEMAIL and not caller_gone:
        return tv.voicemail_twiml(
            call_id,
            step.greeting,
            step.max_voicemail_seconds,
            request.base_url,
            greeting_url=request.play_url(step.greeting),
        )
    return tv.hangup_twiml()


def hangup(request: _Request, service: VoiceService) -> str:
    return tv.hangup_twiml()


def recording(request: _Request, service: VoiceService, source: RecordingSource) -> str:
    """Fetch the finished recording (basic auth), hand it to the service, which seals and
    stores it and then deletes Twilio's copy. A repeat is safe: the service stores once
    and deletes again; a recording already gone at Twilio was ours already."""
    call_id = request.call_id()
    if request.field("RecordingStatus") != "completed":
        return tv.hangup_twiml()  # "absent": the caller left nothing; "failed": nothing to fetch
    sid = tv.require_recording_sid(request.field("RecordingSid"))
    duration = request.seconds("RecordingDuration")
    try:
        fetched = source.fetch_recording(sid)
    except NotFoundError:
        logger.info("recording already gone at the carrier", extra={"route": tv.RECORDING_PATH})
        return tv.hangup_twiml()
    service.voicemail_recorded(
        VoicemailRecording(call_id, fetched.audio, fetched.content_type, duration, sid)
    )
    return tv.hangup_twiml()


def outbound_answer(request: _Request, service: VoiceService) -> str:
    """Click-to-call: the clinician pressed a key. 1 and still theirs: dial the client
    under the business number (this leg's From); anything else ends the call."""
    call_id, user_id = request.call_id(), request.user_id()
    accepted = request.field("Digits", required=False) == tv.ACCEPT_DIGIT
    if service.screen_answer(call_id, user_id, accepted) is not ScreenDecision.CONNECT:
        return tv.hangup_twiml()
    caller_id = require_e164(request.field("From"), field="From")
    client = service.bridge_number(call_id, user_id)
    return tv.bridge_twiml(call_id, user_id, caller_id, client, request.base_url)


def outbound_done(request: _Request, service: VoiceService) -> str:
    outcome = tv.outbound_dial_outcome(
        request.field("DialCallStatus", required=False),
        clinician_gone=request.field("CallStatus", required=False) == "completed",
    )
    service.call_finished(
        CallReport(
            request.call_id(),
            outcome,
            answered_by=request.user_id() if outcome is CallOutcome.ANSWERED else None,
            duration_seconds=request.seconds("DialCallDuration")
            if outcome is CallOutcome.ANSWERED
            else 0,
            carrier_call_id=request.field("CallSid"),
        )
    )
    return tv.hangup_twiml()


def outbound_status(request: _Request, service: VoiceService) -> str:
    """The clinician's leg ended. If it was bridged, the Dial action reported first and
    this repeat changes nothing; otherwise it says why nobody was connected."""
    status = request.field("CallStatus")
    if status in ("queued", "initiated", "ringing", "in-progress"):
        return tv.hangup_twiml()  # not final: only "completed" events are asked for
    service.call_finished(
        CallReport(
            request.call_id(),
            tv.outbound_call_outcome(status),
            carrier_call_id=request.field("CallSid"),
        )
    )
    return tv.hangup_twiml()


Route = Callable[[_Request, VoiceService], str]
ROUTES: dict[str, Route] = {
    tv.INCOMING_PATH: incoming,
    tv.SCREEN_PATH: screen,
    tv.SCREEN_ANSWER_PATH: screen_answer,
    tv.DIAL_DONE_PATH: dial_done,
    tv.HANGUP_PATH: hangup,
    tv.OUTBOUND_ANSWER_PATH: outbound_answer,
    tv.OUTBOUND_DONE_PATH: outbound_done,
    tv.OUTBOUND_STATUS_PATH: outbound_status,
}


# --- the handler ---------------------------------------------------------------------------
def _dispatch(resource: str, request: _Request, runtime: Container) -> str:
    """The route's TwiML; NotFoundError (answered with a hang-up) for an unknown route,
    which API Gateway never forwards."""
    greetings = runtime.greeting_store()
    if greetings is not None:
        request.greeting_url = greetings.greeting_url
    if resource == tv.RECORDING_PATH:
        source = runtime.voice_carrier()
        if not isinstance(source, RecordingSource):
            raise CarrierError("twilio:no-recording-fetch")
        return recording(request, runtime.voice_service(), source)
    route = ROUTES.get(resource)
    if route is None:
        raise NotFoundError("no such webhook")
    return route(request, runtime.voice_service())


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    if event.get("source") == SCHEDULE_SOURCE:
        # Every 5 minutes (EventBridge): recordings whose delete at Twilio failed after
        # their voicemail was sealed, and voicemail transcription jobs under way.
        swept = {"carrier_copies_deleted": runtime.voice_service().sweep_carrier_recordings()}
        if runtime.transcribes:
            swept["transcripts_finished"] = runtime.transcription_service().sweep()
        return swept
    return _webhook(event, runtime)


def _webhook(event: dict[str, Any], runtime: Container) -> dict[str, Any]:
    resource = str(event.get("resource", ""))
    metrics = runtime.metrics()
    try:
        # Twilio may sign the recording callback's URL with its retry fragment.
        retry = (tv.RECORDING_RETRY_FRAGMENT,) if resource == tv.RECORDING_PATH else ()
        form = verified_form(event, runtime, fragments=retry)
        request = _Request(form.params, form.query, form.base_url)
        twiml = _dispatch(resource, request, runtime)
    except RequestBodyError as refused:
        metrics.count("VoiceWebhookMalformed")
        return error(_boundary.status_of(refused), f"{refused.field} {refused.problem}")
    except SignatureError:
        metrics.count("VoiceWebhookSignatureRejected")
        logger.warning("voice webhook signature rejected", extra={"route": resource})
        return error(403, "signature verification failed")
    except ValidationError as invalid:
        metrics.count("VoiceWebhookMalformed")
        # Field names only: a ValidationError never carries the offending value.
        return error(400, f"malformed webhook: {invalid.field}")
    except NotFoundError:
        metrics.count("VoiceCallNotFound")
        return response(200, tv.hangup_twiml(), _TWIML)
    except _RETRYABLE as failed:
        metrics.count("VoiceWebhookRetry")
        logger.warning(
            "voice webhook failed; the carrier retries",
            extra={"route": resource, "error": type(failed).__name__},
        )
        return error(503, "temporarily unavailable, retry")
    logger.info("voice webhook processed", extra={"route": resource})
    return response(200, twiml, _TWIML)


handler = EntryPoint(handle, required=("table_name",))
