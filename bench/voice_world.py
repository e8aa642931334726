"""The voice functions on the bench's in-process moto deployment (bench/world.py).

Adds what voice needs to a `World`: the voicemail and staging buckets, the staff user pool
(the call path checks routed clinicians with ListUsers), one clinician with a forwarding
cell and the business number routed to them, and two more Lambda containers built as the
deployed functions are: the Chime call-control function (carrier `aws`) and the Twilio
voice webhook function (carrier `twilio`, its REST API a fake on 127.0.0.1 whose every
request is delayed and counted like an AWS call). Each flow plays one call through the
real handler, event by event, in the order the carrier sends them.
"""

from __future__ import annotations

import io
import json
import threading
import uuid
import wave
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.aws_calls import CallRecorder
from bench.world import BUSINESS_NUMBER, PUBLIC_BASE_URL, TENANT, TWILIO_AUTH_TOKEN, World
from functions.carriers import twilio_voice as tv
from functions.carriers.twilio import SIGNATURE_HEADER, compute_signature
from functions.container import Container
from functions.core.voice import NumberRouting, VoiceSettings
from functions.handlers import chime_call_control, twilio_voice
from functions.logic.access import Principal, Role
from infra.config import load_config
from local.apigw import LambdaContext, Route, build_event
from local.identity import create_pool

REPO = Path(__file__).resolve().parent.parent
EVENTS = REPO / "tests" / "events"
VOICEMAIL_BUCKET = "quietline-bench-voicemail"
STAGING_BUCKET = "quietline-bench-voice-staging"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
CALLER = "+12065550142"  # the committed Chime fixtures' caller (555-01xx: fiction)
CLINICIAN_CELL = "+12065550177"  # and their clinician's cell
VOICEMAIL_SECONDS = 60  # the voicemail each missed call leaves
TALK_SECONDS = 300  # the talk time each answered call reports
# Lambda memory of both voice functions (infra/constructs/voice.py ChimeCallControl,
# infra/constructs/twilio_carrier.py TwilioVoice); both arm64 like every function here.
VOICE_FUNCTION_MEMORY_MB = 1024

Step = Callable[[], Any]


@dataclass(frozen=True)
class CallEvent:
    """One event of a call: `run` is the handler's work (timed); `before`, if any, is the
    carrier's own work between two events (RecordAudio writing the WAV), not timed."""

    name: str
    run: Step
    before: Step | None = None


def wav_audio(seconds: int) -> bytes:
    """What RecordAudio writes: 8 kHz 16-bit mono WAV (docs/voice.md), silence-free bytes."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(range(256)) * (8000 * 2 * seconds // 256))
    return buffer.getvalue()


def mp3_audio(seconds: int) -> bytes:
    """The size of Twilio's 32 kbit/s MP3 of `seconds` (content is not decoded)."""
    return b"ID3" + bytes(range(256)) * (4000 * seconds // 256)


# --- api.twilio.com on 127.0.0.1 ---------------------------------------------------------
class _TwilioServer(ThreadingHTTPServer):
    daemon_threads = True
    recorder: CallRecorder
    audio: bytes


class _TwilioHandler(BaseHTTPRequestHandler):
    server: _TwilioServer

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.recorder.modeled_call("twilio-rest", "FetchRecording")
        self._reply(200, self.server.audio, "audio/mpeg")

    def do_DELETE(self) -> None:
        self.server.recorder.modeled_call("twilio-rest", "DeleteRecording")
        self._reply(204, b"", "application/json")

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines are not bench output."""


@contextmanager
def fake_twilio_rest(recorder: CallRecorder, audio: bytes) -> Iterator[str]:
    server = _TwilioServer(("127.0.0.1", 0), _TwilioHandler)
    server.recorder, server.audio = recorder, audio
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- the voice deployment --------------------------------------------------------------------
class VoiceWorld:
    """Voice on a started `World`: call `setup(twilio_api_base_url)` once inside it."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.chime: Container | None = None
        self.twilio: Container | None = None
        self.wav = wav_audio(VOICEMAIL_SECONDS)

    def setup(self, twilio_api_base_url: str) -> None:
        world = self.world
        clients = world.clients
        s3 = clients.client("s3")
        s3.create_bucket(Bucket=VOICEMAIL_BUCKET)
        s3.create_bucket(Bucket=STAGING_BUCKET)
        cognito = clients.client("cognito-idp")
        pool = create_pool(cognito, load_config())
        clinician = next(
            u for u in pool.users if u.role == "clinician" and u.tenant_id == TENANT.tenant_id
        )
        user = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username=clinician.email)
        self.clinician_id = next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")
        voice = {
            "voicemail_bucket": VOICEMAIL_BUCKET,
            "voice_staging_bucket": STAGING_BUCKET,
            "user_pool_id": pool.user_pool_id,
        }
        chime_settings = world.settings.model_copy(
            update={**voice, "carrier": "aws", "chime_sip_media_application_id": "bench-sma"}
        )
        twilio_settings = world.settings.model_copy(
            update={
                **voice,
                "carrier": "twilio",
                "twilio_account_sid": ACCOUNT_SID,
                "twilio_api_base_url": twilio_api_base_url,
            }
        )
        self.chime = Container(chime_settings, clients=clients, ports=world.ports)
        self.twilio = Container(twilio_settings, clients=clients, ports=world.ports)
        self._route_the_business_number()
        for service in ("s3", "cognito-idp"):
            world.recorder.attach(clients.client(service))

    def _route_the_business_number(self) -> None:
        assert self.chime is not None
        admin = self.chime.voice_admin()
        tenant = TENANT.tenant_id
        admin.set_forwarding_number(
            Principal(self.clinician_id, tenant, Role.CLINICIAN, "bench", 0),
            CLINICIAN_CELL,
            region="US",
        )
        admin.update_voice_settings(
            Principal("bench-admin", tenant, Role.ADMIN, "bench", 0),
            VoiceSettings(
                enabled=True,
                routes=(NumberRouting(BUSINESS_NUMBER, (self.clinician_id,)),),
                max_voicemail_seconds=VOICEMAIL_SECONDS * 2,
            ),
        )

    # --- Chime SDK PSTN audio -------------------------------------------------------------
    def _sma(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.chime is not None
        bound = chime_call_control.handler.bound(self.chime)
        answer: dict[str, Any] = bound(event, LambdaContext("chime-call-control"))
        return answer

    def chime_call(self, *, answered: bool) -> list[CallEvent]:
        """One inbound call's SMA events, each a step that feeds the handler the committed
        fixture (a new transaction id per call) with the attributes the last answer set."""
        transaction = str(uuid.uuid4())
        state: dict[str, Any] = {"attributes": None}

        def event(name: str) -> dict[str, Any]:
            loaded: dict[str, Any] = json.loads(
                (EVENTS / f"chime_{name}.json").read_text(encoding="utf-8")
            )
            loaded["CallDetails"]["TransactionId"] = transaction
            if state["attributes"] is not None:
                loaded["CallDetails"]["TransactionAttributes"] = state["attributes"]
            return loaded

        def feed(name: str, prepare: Callable[[dict[str, Any]], None] | None = None) -> Step:
            def step() -> None:
                sent = event(name)
                if prepare is not None:
                    prepare(sent)
                answer = self._sma(sent)
                state["attributes"] = answer.get("TransactionAttributes")
                state["actions"] = answer.get("Actions", [])
                if not state["actions"] and name != "speak_and_get_digits_successful":
                    raise RuntimeError(f"no actions after {name}")

            return step

        def staged(sent: dict[str, Any]) -> None:
            key = state["staged_key"]
            sent["ActionData"]["RecordingDestination"]["Key"] = key

        def record_audio() -> None:
            # What RecordAudio does between the two events: write the staged WAV.
            record = next(a for a in state["actions"] if a["Type"] == "RecordAudio")
            key = record["Parameters"]["RecordingDestination"]["Prefix"] + "recording.wav"
            state["staged_key"] = key
            self.world.clients.client("s3").put_object(
                Bucket=STAGING_BUCKET, Key=key, Body=self.wav
            )

        steps = [CallEvent("new_inbound_call", feed("new_inbound_call"))]
        if answered:
            return [
                *steps,
                CallEvent("bridge_answered", feed("call_and_bridge_successful")),
                CallEvent("screen_accepted", feed("speak_and_get_digits_successful")),
                CallEvent("hangup_after_talk", feed("hangup")),
            ]
        return [
            *steps,
            CallEvent("bridge_not_answered", feed("call_and_bridge_failed")),
            CallEvent("record_audio_done", feed("record_audio_successful", staged), record_audio),
        ]

    # --- Twilio Programmable Voice --------------------------------------------------------
    def _post(self, url: str, form: dict[str, str]) -> str:
        assert self.twilio is not None
        signed = url.split("#", 1)[0]
        parts = urlsplit(signed)
        event = build_event(
            route=Route("POST", parts.path, "functions.handlers.twilio_voice.handler"),
            path_parameters={},
            method="POST",
            raw_path=parts.path + (f"?{parts.query}" if parts.query else ""),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                SIGNATURE_HEADER: compute_signature(TWILIO_AUTH_TOKEN, signed, form),
            },
            body=urlencode(form).encode(),
            source_ip="203.0.113.9",
            host="quietline.example",
        )
        bound = twilio_voice.handler.bound(self.twilio)
        result = bound(event, LambdaContext("twilio-voice"))
        if int(result["statusCode"]) != 200:
            raise RuntimeError(f"twilio voice webhook answered {result['statusCode']}")
        body = str(result["body"]).removeprefix('<?xml version="1.0" encoding="UTF-8"?>')
        self.twiml = ET.fromstring(body)  # noqa: S314 - our own TwiML
        return body

    def _attribute(self, tag: str, name: str) -> str:
        found = self.twiml.find(f".//{tag}")
        if found is None or not found.get(name):
            raise RuntimeError(f"no <{tag} {name}> in the TwiML")
        return str(found.get(name))

    def twilio_call(self, *, answered: bool) -> list[CallEvent]:
        """One inbound call's webhooks, each posted (signed) to the URL the previous
        TwiML handed out, with the fields Twilio documents for it."""
        call_sid = "CA" + uuid.uuid4().hex
        base = {
            "AccountSid": ACCOUNT_SID,
            "CallSid": call_sid,
            "From": CALLER,
            "To": BUSINESS_NUMBER,
            "CallStatus": "in-progress",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        urls: dict[str, str] = {}

        def post(name: str, url: Callable[[], str], **form: str) -> Step:
            def step() -> None:
                self._post(url(), {**base, **form})
                if name == "incoming":
                    urls["screen"] = self._attribute("Number", "url")
                    urls["dial_done"] = self._attribute("Dial", "action")
                elif name == "screen":
                    urls["screen_answer"] = self._attribute("Gather", "action")
                elif name == "dial_done_no_answer":
                    urls["recording"] = self._attribute("Record", "recordingStatusCallback")

            return step

        leg = {"CallSid": "CA" + uuid.uuid4().hex, "From": BUSINESS_NUMBER, "To": CLINICIAN_CELL}
        steps = [
            CallEvent("incoming", post("incoming", lambda: PUBLIC_BASE_URL + tv.INCOMING_PATH))
        ]
        if answered:
            return [
                *steps,
                CallEvent("screen", post("screen", lambda: urls["screen"], **leg)),
                CallEvent(
                    "screen_accepted",
                    post("screen_answer", lambda: urls["screen_answer"], **leg, Digits="1"),
                ),
                CallEvent(
                    "dial_done_answered",
                    post(
                        "dial_done",
                        lambda: urls["dial_done"],
                        CallStatus="completed",
                        DialCallStatus="completed",
                        DialCallDuration=str(TALK_SECONDS),
                    ),
                ),
            ]
        return [
            *steps,
            CallEvent(
                "dial_done_no_answer",
                post("dial_done_no_answer", lambda: urls["dial_done"], DialCallStatus="no-answer"),
            ),
            CallEvent(
                "recording_callback",
                post(
                    "recording",
                    lambda: urls["recording"],
                    CallStatus="completed",
                    RecordingSid="RE" + uuid.uuid4().hex,
                    RecordingStatus="completed",
                    RecordingDuration=str(VOICEMAIL_SECONDS),
                    RecordingUrl="https://api.twilio.com/recording",
                ),
            ),
        ]

    # --- what is left behind ----------------------------------------------------------------
    def objects(self, bucket: str) -> int:
        listed = self.world.clients.client("s3").list_objects_v2(Bucket=bucket)
        return int(listed.get("KeyCount", 0))
