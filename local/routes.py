"""What `make run` serves: each route maps to the Lambda handler API Gateway would call."""

from __future__ import annotations

from functions.carriers.twilio import SMS_WEBHOOK_PATH, STATUS_WEBHOOK_PATH
from functions.carriers.twilio_voice import VOICE_WEBHOOK_PATHS
from functions.handlers.api import ROUTES as API_ROUTES
from local import sim_voice, static
from local.apigw import Route
from local.clock import CLOCK_ADVANCE_PATH, CLOCK_HANDLER, CLOCK_PATH

TWILIO_SMS_PATH = SMS_WEBHOOK_PATH
TWILIO_STATUS_PATH = STATUS_WEBHOOK_PATH
# Stands in for the SNS topic End User Messaging publishes inbound texts to.
AWS_SMS_INBOUND_PATH = "/local/aws-sms/inbound"
OUTBOX_PATH = "/local/outbox"
OUTBOX_HANDLER = "local.sim_carrier.outbox_handler"  # the runtime's own carrier answers
# Local only (never in infra): drive a call as a voice carrier would (local/sim_voice.py).
VOICE_HANDLER = "local.sim_voice.VoiceDriver.handler"  # the runtime's own driver answers
VOICE_ROUTES: tuple[Route, ...] = (
    *(
        Route("POST", path, VOICE_HANDLER)
        for path in (
            sim_voice.INCOMING_PATH,
            sim_voice.SCREEN_PATH,
            sim_voice.FINISHED_PATH,
            sim_voice.VOICEMAIL_PATH,
            sim_voice.ANSWER_PATH,
            sim_voice.HANGUP_PATH,
        )
    ),
    Route("GET", sim_voice.PLACED_PATH, VOICE_HANDLER),
    Route("GET", sim_voice.CALLS_PATH, VOICE_HANDLER),
)
API_HANDLER = "functions.handlers.api.handler"
TWILIO_VOICE_HANDLER = "functions.handlers.twilio_voice.handler"
SECURE_LINK_HANDLER = "functions.handlers.secure_link.handler"
# The web front end (web/): pages, assets, and the local demo accounts (local/static.py).
WEB_ROUTES: tuple[Route, ...] = tuple(
    Route("GET", template, "local.static.handler")
    for template in (*static.PAGES, static.ASSET_ROUTE, static.DEMO_ROUTE)
)

ROUTES: tuple[Route, ...] = (
    Route("GET", "/health", "local.health.handler"),
    Route("POST", TWILIO_SMS_PATH, "functions.handlers.twilio_webhook.handler"),
    Route("POST", TWILIO_STATUS_PATH, "functions.handlers.twilio_webhook.handler"),
    # Signed Twilio voice webhooks, as the deployed API serves them (same path list).
    *(Route("POST", path, TWILIO_VOICE_HANDLER) for path in VOICE_WEBHOOK_PATHS),
    Route("POST", AWS_SMS_INBOUND_PATH, "functions.handlers.inbound_sns.handler", kind="sns"),
    Route("GET", OUTBOX_PATH, OUTBOX_HANDLER),
    Route("GET", CLOCK_PATH, CLOCK_HANDLER),
    Route("POST", CLOCK_ADVANCE_PATH, CLOCK_HANDLER),
    *VOICE_ROUTES,
    *(
        Route(method, f"/secure/{{token}}/{step}", SECURE_LINK_HANDLER, resolver=True)
        for method, step in (
            ("POST", "challenge"),
            ("POST", "verify"),
            ("GET", "message"),
            ("POST", "reply"),
        )
    ),
    *(
        Route(r.method, r.path, API_HANDLER, authorized=not r.public, resolver=True)
        for r in API_ROUTES
    ),
    *WEB_ROUTES,
)
