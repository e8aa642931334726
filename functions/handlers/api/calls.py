"""Calls in a thread: the call log, a voicemail's audio, click-to-call; and voice settings
(admins) and the caller's own forwarding cell. Bodies of voice requests in voice_models.py."""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.core.errors import ValidationError
from functions.core.voice import CallRecord, NumberRouting, RingStrategy, VoiceSettings
from functions.handlers.api.models import Cursor, Limit
from functions.handlers.api.policy import principal, route, runtime
from functions.handlers.api.voice_models import (
    ForwardingNumber,
    GreetingUpload,
    VoiceSettingsBody,
)
from functions.logic.greeting_audio import MAX_GREETING_BYTES

router = Router()


def call_view(call: CallRecord) -> dict[str, Any]:
    """What the thread shows: ids, direction, outcome, who answered; never a number."""
    view: dict[str, Any] = {
        "call_id": call.call_ulid,
        "kind": "call",
        "direction": call.direction.value,
        "status": call.status.value,
        "outcome": call.outcome.value if call.outcome else None,
        "answered_by": call.answered_by,
        "placed_by": call.placed_by,
        "duration_seconds": call.duration_seconds,
        "created_at": call.created_at,
        "voicemail": {
            "duration_seconds": call.voicemail.duration_seconds,
            "content_type": call.voicemail.content_type,
        }
        if call.voicemail
        else None,
    }
    if call.voicemail and call.transcript_status:
        # Whether a transcript is pending, ready or failed; its text only through the
        # transcript route (audited like reading a body).
        view["voicemail"]["transcript"] = call.transcript_status
    return view


@route(router, "GET", "/conversations/{conversation_id}/calls", audit="call.read")
def list_calls(conversation_id: str, limit: Limit = 50, cursor: Cursor = None) -> dict[str, Any]:
    page = (
        runtime(router)
        .voice_service()
        .call_log(principal(router), conversation_id, limit=limit, cursor=cursor)
    )
    return {"items": [call_view(c) for c in page.items], "cursor": page.cursor}


@route(router, "POST", "/conversations/{conversation_id}/calls", audit="call.place", status=202)
def click_to_call(conversation_id: str) -> Response[Any]:
    call = runtime(router).voice_service().click_to_call(principal(router), conversation_id)
    return Response(202, "application/json", body=call_view(call))


@route(
    router,
    "GET",
    "/conversations/{conversation_id}/calls/{call_id}/voicemail",
    audit="voicemail.played",
)
def play_voicemail(conversation_id: str, call_id: str) -> Response[Any]:
    audio = (
        runtime(router).voice_service().voicemail_audio(principal(router), conversation_id, call_id)
    )
    # Base64 with isBase64Encoded (API Gateway's binary proxy answer), encoded here: the
    # response validation would otherwise try to read the bytes as UTF-8 text.
    response: Response[Any] = Response(
        200,
        audio.content_type,
        body=base64.b64encode(audio.audio).decode(),
        headers={"Cache-Control": "no-store", "Content-Disposition": "inline"},
    )
    response.base64_encoded = True
    return response


@route(
    router,
    "GET",
    "/conversations/{conversation_id}/calls/{call_id}/transcript",
    audit="voicemail.transcript_read",
)
def read_transcript(conversation_id: str, call_id: str) -> Response[Any]:
    transcript = (
        runtime(router).transcript_reader().transcript(principal(router), conversation_id, call_id)
    )
    status = transcript.status.value if transcript.status else None
    body = {"status": status, "text": transcript.text}
    return Response(200, "application/json", body=body, headers={"Cache-Control": "no-store"})


@route(router, "GET", "/voice-settings", audit=None, admin_only=True)
def get_voice_settings() -> dict[str, Any]:
    return _settings_view(runtime(router).voice_admin().get_voice_settings(principal(router)))


@route(router, "PUT", "/voice-settings", audit="voice_settings.update", admin_only=True)
def update_voice_settings(payload: VoiceSettingsBody) -> dict[str, Any]:
    settings = VoiceSettings(
        enabled=payload.enabled,
        routes=tuple(
            NumberRouting(
                r.business_number, tuple(r.user_ids), RingStrategy(r.strategy), r.ring_seconds
            )
            for r in payload.routes
        ),
        greeting_text=payload.greeting_text,
        max_voicemail_seconds=payload.max_voicemail_seconds,
        missed_call_text_enabled=payload.missed_call_text_enabled,
        missed_call_text=payload.missed_call_text,
        transcribe_voicemail=payload.transcribe_voicemail,
    )
    updated = runtime(router).voice_admin().update_voice_settings(principal(router), settings)
    return _settings_view(updated)


# Base64 of the largest greeting, plus room for the JSON around it; a bigger audio inside
# this bound is refused on the decoded bytes (413 naming `audio`).
_GREETING_BODY_BYTES = MAX_GREETING_BYTES * 4 // 3 + 4096


@route(
    router,
    "PUT",
    "/voice-settings/greeting",
    audit="voice_greeting.update",
    admin_only=True,
    max_body_bytes=_GREETING_BODY_BYTES,
)
def upload_greeting(payload: GreetingUpload) -> dict[str, Any]:
    try:
        audio = base64.b64decode(payload.audio_base64, validate=True)
    except ValueError:  # binascii.Error, or a character outside ASCII
        raise ValidationError("audio_base64", "must be base64") from None
    updated = (
        runtime(router).voice_admin().set_greeting(principal(router), audio, payload.content_type)
    )
    return _settings_view(updated)


@route(
    router,
    "DELETE",
    "/voice-settings/greeting",
    audit="voice_greeting.clear",
    admin_only=True,
    status=204,
)
def remove_greeting() -> Response[Any]:
    runtime(router).voice_admin().clear_greeting(principal(router))
    return Response(status_code=204)


@route(router, "PUT", "/me/forwarding-number", audit="forwarding_number.set")
def set_forwarding_number(payload: ForwardingNumber) -> dict[str, Any]:
    services = runtime(router)
    last_digits = services.voice_admin().set_forwarding_number(
        principal(router), payload.phone_number, region=services.settings.phone_region
    )
    return {"set": True, "ends_with": last_digits}


@route(router, "DELETE", "/me/forwarding-number", audit="forwarding_number.clear", status=204)
def clear_forwarding_number() -> Response[Any]:
    runtime(router).voice_admin().clear_forwarding_number(principal(router))
    return Response(status_code=204)


def _settings_view(settings: VoiceSettings) -> dict[str, Any]:
    # Whether callers hear the uploaded recording (True) or the text spoken; the object
    # key stays server-side.
    return {**settings.plain(), "greeting_recording": settings.greeting_recording_key is not None}
