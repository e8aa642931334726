"""Voice wording and settings rules: the built-in texts (naming the practice, never a
client) and the checks an admin's routing settings must pass."""

from __future__ import annotations

from collections.abc import Sequence

from functions.core.errors import ValidationError
from functions.core.phone import require_e164
from functions.core.voice import MAX_VOICEMAIL_SECONDS, CallRecord, VoiceSettings

_MAX_RING_SECONDS = 60
MAX_GREETING_CHARS = 500
MAX_MISSED_CALL_TEXT_CHARS = 320
GREETING_PREFIX = "greetings/"


def default_greeting(practice_name: str) -> str:
    return (
        f"You have reached {practice_name}. Nobody can take your call right now. "
        "Please leave a message after the tone."
    )


def screening_prompt(practice_name: str) -> str:
    """What a rung clinician hears first: the practice's name, never the caller's."""
    return f"Call for {practice_name}. Press 1 to accept."


def default_missed_call_text(practice_name: str) -> str:
    return (
        f"Sorry we missed your call to {practice_name}. We will call you back. "
        "Reply STOP to opt out."
    )


def voicemail_object_key(call: CallRecord) -> str:
    """Ids only: the key is visible in S3 listings and CloudTrail data events."""
    return f"voicemail/{call.tenant_id}/{call.conversation_id}/{call.call_ulid}"


def greeting_object_key(tenant_id: str, greeting_id: str, extension: str) -> str:
    """Ids only, like a voicemail's key; the carriers' read grants cover `greetings/*`."""
    return f"{GREETING_PREFIX}{tenant_id}/{greeting_id}.{extension}"


def validate_voice_settings(settings: VoiceSettings) -> None:
    """ValidationError naming the field; numbers are the practice's (not PHI)."""
    seen: set[str] = set()
    for index, route in enumerate(settings.routes):
        where = f"voice.routes[{index}]"
        require_e164(route.business_number, field=f"{where}.business_number")
        if route.business_number in seen:
            raise ValidationError(f"{where}.business_number", "is routed twice")
        seen.add(route.business_number)
        if not 5 <= route.ring_seconds <= _MAX_RING_SECONDS:
            raise ValidationError(f"{where}.ring_seconds", f"must be 5 to {_MAX_RING_SECONDS}")
        if len(route.user_ids) > 10 or len(set(route.user_ids)) != len(route.user_ids):
            raise ValidationError(f"{where}.user_ids", "must be at most 10 distinct user ids")
        if not all(isinstance(u, str) and 0 < len(u) <= 128 for u in route.user_ids):
            raise ValidationError(f"{where}.user_ids", "must be user ids")
    if len(settings.greeting_text) > MAX_GREETING_CHARS:
        raise ValidationError("voice.greeting_text", f"must be at most {MAX_GREETING_CHARS}")
    if len(settings.missed_call_text) > MAX_MISSED_CALL_TEXT_CHARS:
        raise ValidationError(
            "voice.missed_call_text", f"must be at most {MAX_MISSED_CALL_TEXT_CHARS}"
        )
    if not 10 <= settings.max_voicemail_seconds <= MAX_VOICEMAIL_SECONDS:
        raise ValidationError(
            "voice.max_voicemail_seconds", f"must be 10 to {MAX_VOICEMAIL_SECONDS}"
        )
    if not isinstance(settings.transcribe_voicemail, bool):
        raise ValidationError("voice.transcribe_voicemail", "must be true or false")
    key = settings.greeting_recording_key
    if key is not None and not (key.startswith(GREETING_PREFIX) and key.isprintable()):
        raise ValidationError("voice.greeting_recording_key", "must be a greetings/ object key")


def texting_number(numbers: Sequence[str], called: str, voice_only: frozenset[str]) -> str | None:
    """The number a conversation a call starts texts from: the one called, unless it only
    carries voice (then the practice's first texting number; None: it has none)."""
    if called not in voice_only:
        return called
    return next((number for number in numbers if number not in voice_only), None)


def calling_number(
    numbers: Sequence[str], texts_from: str | None, voice_only: frozenset[str]
) -> str:
    """Click-to-call's caller ID: where numbers are voice-only, the practice's first voice
    number (a texting number is not on the voice carrier); else the number the
    conversation texts from ("" when the practice has none)."""
    if voice_only:
        return next((number for number in numbers if number in voice_only), "")
    return texts_from or next(iter(numbers), "")
