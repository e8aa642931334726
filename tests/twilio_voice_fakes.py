"""Stand-ins for the Twilio voice tests: a VoiceService fake that keeps the contract's
promises (docs/voice.md, "Contract"), a runtime that serves it, signed webhook events
for the URLs our TwiML hands out, and a REST API on 127.0.0.1 for api.twilio.com."""

from __future__ import annotations

import threading
import urllib.parse
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from functions.container import Container, Ports
from functions.core.settings import Settings
from functions.core.voice import (
    CallOutcome,
    CallPlan,
    CallReport,
    Greeting,
    IncomingCall,
    NextAction,
    NextStep,
    PlanAction,
    RingStrategy,
    RingTarget,
    ScreenDecision,
    VoicemailRecording,
)
from functions.logic.voice_ports import VoiceCarrier
from tests.builders import PUBLIC_BASE_URL, twilio_post
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE, OTHER_CLIENT_PHONE

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
RECORDING_SID = "RE0123456789abcdef0123456789abcdef"
CALL_ID = "harbor/conv-1/01JDQ3Z8ABCDEF"
CLINICIAN_CELL = OTHER_CLIENT_PHONE  # a clinician's cell is as PHI-grade as a client's
SECOND_CELL = "+12065550177"
GREETING = Greeting("You have reached Harbor Counseling. Please leave a message.")


def ring_plan(strategy: RingStrategy = RingStrategy.SEQUENTIAL) -> CallPlan:
    return CallPlan(
        CALL_ID,
        PlanAction.RING,
        caller_id=BUSINESS_NUMBER,
        targets=(RingTarget("user-a", CLINICIAN_CELL), RingTarget("user-b", SECOND_CELL)),
        strategy=strategy,
        ring_seconds=18,
        screening_prompt="Call for Harbor Counseling. Press 1 to accept.",
        greeting=GREETING,
        max_voicemail_seconds=90,
    )


@dataclass
class FakeVoiceService:
    """The carrier-facing half of VoiceService, as the contract describes it."""

    carrier: VoiceCarrier | None = None
    plan: CallPlan = field(default_factory=ring_plan)
    incoming: list[IncomingCall] = field(default_factory=list)
    screens: list[tuple[str, str, bool]] = field(default_factory=list)
    reports: list[CallReport] = field(default_factory=list)
    stored: dict[str, bytes] = field(default_factory=dict)
    recordings: list[VoicemailRecording] = field(default_factory=list)
    answered_by: str | None = None
    finished: NextStep | None = None
    pending_carrier_deletes: int = 0  # what sweep_carrier_recordings will find and delete

    def sweep_carrier_recordings(self) -> int:
        swept, self.pending_carrier_deletes = self.pending_carrier_deletes, 0
        return swept

    def incoming_call(self, call: IncomingCall) -> CallPlan:
        self.incoming.append(call)
        return self.plan

    def screen_answer(self, call_id: str, user_id: str, accepted: bool) -> ScreenDecision:
        self.screens.append((call_id, user_id, accepted))
        if not accepted or self.answered_by not in (None, user_id):
            return ScreenDecision.HANG_UP
        self.answered_by = user_id
        # The call is no longer ringing: a repeated incoming_call plans no more ringing.
        self.plan = replace(self.plan, action=PlanAction.VOICEMAIL, targets=())
        return ScreenDecision.CONNECT

    def call_finished(self, report: CallReport) -> NextStep:
        self.reports.append(report)
        if self.finished is None:
            missed = report.outcome not in (CallOutcome.ANSWERED, CallOutcome.CALLER_HUNG_UP)
            self.finished = (
                NextStep(NextAction.VOICEMAIL, GREETING, 90)
                if missed
                else NextStep(NextAction.HANG_UP)
            )
        return self.finished

    def voicemail_recorded(self, recording: VoicemailRecording) -> None:
        self.recordings.append(recording)
        self.stored.setdefault(recording.call_id, recording.audio)
        if recording.carrier_recording_id and self.carrier is not None:
            self.carrier.delete_recording(recording.carrier_recording_id)

    def bridge_number(self, call_id: str, user_id: str) -> str:
        return CLIENT_PHONE


class VoiceRuntime(Container):
    """A container whose voice service is the fake (the rest as deployed)."""

    def __init__(self, service: FakeVoiceService, *, api_base_url: str | None = None) -> None:
        settings = Settings(
            carrier="twilio",
            table_name="t",
            twilio_account_sid=ACCOUNT_SID,
            public_base_url=PUBLIC_BASE_URL,
            **({"twilio_api_base_url": api_base_url} if api_base_url else {}),
        )
        super().__init__(settings, ports=Ports(twilio_auth_token=AUTH_TOKEN, metrics=Counts()))
        self.service = service

    def voice_service(self) -> Any:
        return self.service


class Counts:
    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value


def call_form(**extra: str) -> dict[str, str]:
    """The fields Twilio posts on a voice webhook (Twilio's documented names)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": "CA0123456789abcdef0123456789abcdef",
        "From": CLIENT_PHONE,
        "To": BUSINESS_NUMBER,
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def post_to(url: str, form: dict[str, str], *, sign_with: str | None = None) -> dict[str, Any]:
    """Twilio's request to `url` (one our TwiML handed out), signed over that exact text."""
    parts = urllib.parse.urlsplit(url.split("#", 1)[0])
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_BASE_URL
    return twilio_post(parts.path, form, AUTH_TOKEN, query=parts.query or None, sign_with=sign_with)


def parse_twiml(body: str) -> ET.Element:
    return ET.fromstring(body.removeprefix('<?xml version="1.0" encoding="UTF-8"?>'))  # noqa: S314 - our own TwiML


# --- api.twilio.com on 127.0.0.1 -------------------------------------------------------------
@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


@dataclass
class Seen:
    method: str
    path: str
    authorization: str | None
    form: dict[str, list[str]]


@dataclass
class FakeTwilioApi:
    base_url: str
    replies: deque[Reply] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    api: FakeTwilioApi


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        api = self.server.api
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode() if length else ""
        form = urllib.parse.parse_qs(body, keep_blank_values=True)
        api.seen.append(Seen(self.command, self.path, self.headers.get("Authorization"), form))
        reply = api.replies.popleft() if api.replies else Reply(204)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines are not test output."""


@contextmanager
def fake_twilio_api() -> Iterator[FakeTwilioApi]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.api = FakeTwilioApi(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
