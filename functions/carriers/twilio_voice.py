"""Twilio Programmable Voice: the webhook routes, the TwiML we answer with, and the REST calls
(click-to-call, voicemail fetch and delete). Stdlib only, like the SMS adapter (twilio.py).

Every URL we hand Twilio carries ids only (our call id, a clinician's user id, a leg index)
and the practice's screening prompt: never a number. Numbers appear only inside TwiML
bodies (`<Number>`), which Twilio receives over HTTPS and no log of ours records.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from functions.carriers.twilio import (
    API_VERSION,
    MAX_ERROR_BODY,
    basic_credentials,
    check_base_url,
    default_opener,
    error_code,
    rebuild_query,
)
from functions.core.errors import (
    NotFoundError,
    PermanentCarrierError,
    TransientCarrierError,
    ValidationError,
)
from functions.core.voice import (
    MAX_VOICEMAIL_BYTES,
    CallOutcome,
    CallPlan,
    Greeting,
    OutboundCallRequest,
    PlacedCall,
    RingStrategy,
    RingTarget,
)

if TYPE_CHECKING:
    from functions.logic.voice_ports import VoiceCarrier

CARRIER = "twilio"
VOICE_BASE_PATH = "/webhooks/twilio/voice"
# The routes Twilio calls; the API construct and local mode both serve exactly these.
INCOMING_PATH = VOICE_BASE_PATH  # the number's "A call comes in" URL (console)
SCREEN_PATH = f"{VOICE_BASE_PATH}/screen"  # <Number url>: the whisper to the clinician
SCREEN_ANSWER_PATH = f"{VOICE_BASE_PATH}/screen-answer"  # the whisper's <Gather action>
DIAL_DONE_PATH = f"{VOICE_BASE_PATH}/dial-done"  # inbound <Dial action>
HANGUP_PATH = f"{VOICE_BASE_PATH}/hangup"  # <Record action>: the call is over
RECORDING_PATH = f"{VOICE_BASE_PATH}/recording"  # recordingStatusCallback
OUTBOUND_ANSWER_PATH = f"{VOICE_BASE_PATH}/outbound-answer"  # click-to-call screen's action
OUTBOUND_DONE_PATH = f"{VOICE_BASE_PATH}/outbound-done"  # click-to-call <Dial action>
OUTBOUND_STATUS_PATH = f"{VOICE_BASE_PATH}/outbound-status"  # Calls.create StatusCallback
VOICE_WEBHOOK_PATHS: tuple[str, ...] = (
    INCOMING_PATH,
    SCREEN_PATH,
    SCREEN_ANSWER_PATH,
    DIAL_DONE_PATH,
    HANGUP_PATH,
    RECORDING_PATH,
    OUTBOUND_ANSWER_PATH,
    OUTBOUND_DONE_PATH,
    OUTBOUND_STATUS_PATH,
)

# Query parameters of the URLs we generate (ids only).
CALL_PARAM = "call"
USER_PARAM = "user"
LEG_PARAM = "leg"
PROMPT_PARAM = "prompt"
# Twilio's connection overrides (a URL fragment, never sent to us): retry the recording
# callback on a 5xx or a connect failure, so a failed fetch is retried, not dropped.
RECORDING_RETRY_FRAGMENT = "rc=3&rp=5xx,ct"

MAX_SIMULTANEOUS_NUMBERS = 10  # Twilio rings at most ten <Number>s in one <Dial>
SCREEN_SECONDS = 8  # how long the whisper waits for the key press
MAX_PROMPT_CHARS = 200
ACCEPT_DIGIT = "1"
RECORDING_FORMAT = ".mp3"  # 32 kbps: a 5-minute voicemail is ~1.2 MB (WAV would be ~4.8 MB)
RECORDING_CONTENT_TYPE = "audio/mpeg"
_RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
_DIGIT_RUN = re.compile(r"\+?\d[\d\s().-]{5,}\d")

Params = Mapping[str, str | Sequence[str]]


# --- URLs -----------------------------------------------------------------------------
def webhook_url(base_url: str, path: str, query: Mapping[str, str] | None = None) -> str:
    """The URL Twilio will call (and sign): query names sorted, encoded as rebuild_query
    encodes, so the handler can rebuild the exact text from API Gateway's decoded query."""
    url = base_url.rstrip("/") + path
    if query:
        url += "?" + rebuild_query({k: query[k] for k in sorted(query)})
    return url


def _screening_prompt(text: str) -> str:
    # Carried in a URL: bounded, and never a run of digits that could be a number.
    return _DIGIT_RUN.sub("", text)[:MAX_PROMPT_CHARS]


# --- TwiML ----------------------------------------------------------------------------
def _twiml(response: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(response, encoding="unicode")


def hangup_twiml() -> str:
    response = ET.Element("Response")
    ET.SubElement(response, "Hangup")
    return _twiml(response)


def reject_twiml() -> str:
    """Refuse without answering: the caller hears busy and Twilio bills nothing."""
    response = ET.Element("Response")
    ET.SubElement(response, "Reject", reason="busy")
    return _twiml(response)


def connect_twiml() -> str:
    """An empty whisper document: the screened leg is bridged to the caller."""
    return _twiml(ET.Element("Response"))


def ring_twiml(plan: CallPlan, base_url: str, *, leg: int = 0) -> str:
    """<Dial> the plan's targets under the business number: all at once (simultaneous) or
    target `leg` alone (sequential; the Dial action rings the next). Each <Number> runs the
    screen before the caller is bridged, and the caller hears ringing meanwhile."""
    if plan.strategy is RingStrategy.SIMULTANEOUS:
        targets = plan.targets[:MAX_SIMULTANEOUS_NUMBERS]
    else:
        targets = plan.targets[leg : leg + 1]
    response = ET.Element("Response")
    dial = ET.SubElement(
        response,
        "Dial",
        callerId=plan.caller_id,
        timeout=str(plan.ring_seconds),
        answerOnBridge="true",
        action=webhook_url(
            base_url, DIAL_DONE_PATH, {CALL_PARAM: plan.call_id, LEG_PARAM: str(leg)}
        ),
        method="POST",
    )
    for target in targets:
        _number(dial, target, plan, base_url)
    return _twiml(response)


def _number(dial: ET.Element, target: RingTarget, plan: CallPlan, base_url: str) -> None:
    screen = webhook_url(
        base_url,
        SCREEN_PATH,
        {
            CALL_PARAM: plan.call_id,
            USER_PARAM: target.user_id,
            PROMPT_PARAM: _screening_prompt(plan.screening_prompt),
        },
    )
    number = ET.SubElement(dial, "Number", url=screen, method="POST")
    number.text = target.number


def screen_twiml(call_id: str, user_id: str, prompt: str, base_url: str, *, path: str) -> str:
    """The whisper: the prompt, one key; anything but a press of 1 (or none) hangs up."""
    response = ET.Element("Response")
    gather = ET.SubElement(
        response,
        "Gather",
        numDigits="1",
        timeout=str(SCREEN_SECONDS),
        action=webhook_url(base_url, path, {CALL_PARAM: call_id, USER_PARAM: user_id}),
        method="POST",
        actionOnEmptyResult="false",
    )
    ET.SubElement(gather, "Say").text = _screening_prompt(prompt)
    ET.SubElement(response, "Hangup")
    return _twiml(response)


def voicemail_twiml(
    call_id: str,
    greeting: Greeting,
    max_seconds: int,
    base_url: str,
    *,
    greeting_url: str | None = None,
) -> str:
    """The greeting, a beep, a recording of at most `max_seconds`, then hang up.

    The practice's uploaded recording is played from `greeting_url` (a presigned S3 GET
    valid a few minutes) when there is one; otherwise `text` (always set) is spoken.
    """
    callback = webhook_url(base_url, RECORDING_PATH, {CALL_PARAM: call_id})
    response = ET.Element("Response")
    if greeting_url:
        ET.SubElement(response, "Play").text = greeting_url
    else:
        ET.SubElement(response, "Say").text = greeting.text
    ET.SubElement(
        response,
        "Record",
        maxLength=str(max_seconds),
        playBeep="true",
        timeout="5",
        trim="trim-silence",
        action=webhook_url(base_url, HANGUP_PATH),
        method="POST",
        recordingStatusCallback=f"{callback}#{RECORDING_RETRY_FRAGMENT}",
        recordingStatusCallbackMethod="POST",
        recordingStatusCallbackEvent="completed absent",
    )
    ET.SubElement(response, "Hangup")
    return _twiml(response)


def bridge_twiml(call_id: str, user_id: str, caller_id: str, client: str, base_url: str) -> str:
    """Click-to-call, once the clinician accepted: dial the client under the business number."""
    response = ET.Element("Response")
    dial = ET.SubElement(
        response,
        "Dial",
        callerId=caller_id,
        answerOnBridge="true",
        action=webhook_url(
            base_url, OUTBOUND_DONE_PATH, {CALL_PARAM: call_id, USER_PARAM: user_id}
        ),
        method="POST",
    )
    ET.SubElement(dial, "Number").text = client
    return _twiml(response)


# --- call outcomes ----------------------------------------------------------------------
_DIAL_MISSED: dict[str, CallOutcome] = {
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.NO_ANSWER,
    # The leg was picked up but the screen hung it up (declined, no key, or the phone's own
    # voicemail answered): Twilio reports the child leg as answered and completed.
    "completed": CallOutcome.DECLINED,
    "answered": CallOutcome.DECLINED,
}
_CALL_ENDED: dict[str, CallOutcome] = {
    "busy": CallOutcome.BUSY,
    "no-answer": CallOutcome.NO_ANSWER,
    "failed": CallOutcome.FAILED,
    "canceled": CallOutcome.FAILED,
    "completed": CallOutcome.DECLINED,  # picked up, never pressed 1
}


def inbound_outcome(dial_status: str, *, accepted: bool, caller_gone: bool) -> CallOutcome:
    """How an inbound ringing leg ended. Only the service knows whether someone accepted
    the screen (`accepted`): Twilio reports a screened-away leg as "completed" too."""
    if accepted:
        return CallOutcome.ANSWERED
    if caller_gone:
        return CallOutcome.CALLER_HUNG_UP
    return _DIAL_MISSED.get(dial_status, CallOutcome.FAILED)


def outbound_dial_outcome(dial_status: str, *, clinician_gone: bool) -> CallOutcome:
    """How the client leg of a click-to-call ended (the clinician had accepted)."""
    if dial_status in ("completed", "answered"):
        return CallOutcome.ANSWERED
    if clinician_gone:
        return CallOutcome.CALLER_HUNG_UP
    return _DIAL_MISSED.get(dial_status, CallOutcome.FAILED)


def outbound_call_outcome(call_status: str) -> CallOutcome:
    """How the clinician's leg of a click-to-call ended, when no bridge was reported."""
    return _CALL_ENDED.get(call_status, CallOutcome.FAILED)


# --- REST ---------------------------------------------------------------------------------
def require_recording_sid(value: object) -> str:
    if not isinstance(value, str) or not _RECORDING_SID.fullmatch(value):
        raise ValidationError("RecordingSid", "is not a recording SID")
    return value


@dataclass(frozen=True)
class FetchedRecording:
    audio: bytes
    content_type: str


class TwilioVoiceCarrier:
    """Implements functions.logic.voice_ports.VoiceCarrier over Twilio's REST API, and
    fetches voicemails for the webhook handler. Failures carry a status code or Twilio's
    numeric error code, never a number or a URL."""

    name: str = CARRIER

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        api_base_url: str = "https://api.twilio.com",
        webhook_base_url: str | None = None,
        opener: urllib.request.OpenerDirector | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._credentials = basic_credentials(account_sid, auth_token)
        self._account_sid = account_sid
        self._api = (
            f"{check_base_url(api_base_url, 'api_base_url')}/{API_VERSION}/Accounts/{account_sid}"
        )
        self._webhook_base = (
            check_base_url(webhook_base_url, "public_base_url") if webhook_base_url else None
        )
        self._opener = opener or default_opener()
        self._timeout = timeout

    # --- VoiceCarrier ------------------------------------------------------------------
    def place_call(self, request: OutboundCallRequest) -> PlacedCall:
        """Ring the clinician under the business number with the screen inline (the prompt
        names the practice only); their key press goes to OUTBOUND_ANSWER_PATH, which
        dials the client. Only our call id and the clinician's user id are in URLs."""
        if self._webhook_base is None:
            raise PermanentCarrierError("twilio:no-webhook-base-url")
        form = {
            "To": request.clinician_number,
            "From": request.caller_id,
            "Timeout": str(request.ring_seconds),
            "Twiml": screen_twiml(
                request.call_id,
                request.clinician_user_id,
                request.screening_prompt,
                self._webhook_base,
                path=OUTBOUND_ANSWER_PATH,
            ),
            "StatusCallback": webhook_url(
                self._webhook_base, OUTBOUND_STATUS_PATH, {CALL_PARAM: request.call_id}
            ),
            "StatusCallbackMethod": "POST",
        }
        body = self._call("POST", f"{self._api}/Calls.json", form)
        try:
            sid = json.loads(body)["sid"]
        except (ValueError, KeyError, TypeError):
            sid = None
        if not isinstance(sid, str) or not sid:
            # Twilio accepted something; retrying could ring the clinician twice.
            raise PermanentCarrierError("twilio:unreadable-response")
        return PlacedCall(sid)

    def delete_recording(self, carrier_recording_id: str) -> None:
        """DELETE the recording at Twilio; one already gone is not an error."""
        sid = require_recording_sid(carrier_recording_id)
        try:
            self._call("DELETE", f"{self._api}/Recordings/{sid}.json")
        except NotFoundError:
            return

    # --- the recording callback's fetch --------------------------------------------------
    def fetch_recording(self, recording_sid: str) -> FetchedRecording:
        """The recording's audio, with HTTP basic auth (media URLs require it once "Enforce
        HTTP Auth on Media URLs" is on). The URL is built from our account and the SID,
        never taken from the callback. NotFoundError if Twilio no longer has it."""
        sid = require_recording_sid(recording_sid)
        audio = self._call(
            "GET", f"{self._api}/Recordings/{sid}{RECORDING_FORMAT}", limit=MAX_VOICEMAIL_BYTES + 1
        )
        if len(audio) > MAX_VOICEMAIL_BYTES:
            raise PermanentCarrierError("twilio:recording-too-large")
        return FetchedRecording(audio, RECORDING_CONTENT_TYPE)

    def _call(
        self, method: str, url: str, form: Mapping[str, str] | None = None, *, limit: int = -1
    ) -> bytes:
        headers = {"Authorization": f"Basic {self._credentials}", "User-Agent": "quietline"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - scheme checked
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return bytes(response.read(limit))
        except urllib.error.HTTPError as error:
            raise self._translate(error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException):
            raise TransientCarrierError("twilio:unreachable") from None

    @staticmethod
    def _translate(
        error: urllib.error.HTTPError,
    ) -> NotFoundError | PermanentCarrierError | TransientCarrierError:
        status = error.code
        try:
            body = error.read(MAX_ERROR_BODY)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            error.close()
        if status == 404:
            return NotFoundError("twilio:not-found")
        code = error_code(body)
        reason = f"twilio:{code}" if code is not None else f"twilio:http-{status}"
        if status == 429 or status >= 500:
            return TransientCarrierError(reason)
        return PermanentCarrierError(reason)


if TYPE_CHECKING:
    _conforms: VoiceCarrier = TwilioVoiceCarrier("AC0", "token")
