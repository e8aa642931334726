"""Request bodies of the voice routes (validated by Powertools + pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from functions.handlers.api.models import _Body


class Route(_Body):
    business_number: str = Field(min_length=3, max_length=16)
    user_ids: list[str] = Field(default_factory=list, max_length=10)
    strategy: Literal["sequential", "simultaneous"] = "sequential"
    ring_seconds: int = Field(default=20, ge=5, le=60, strict=True)


class VoiceSettingsBody(_Body):
    # Strict, as in models.py: the document says boolean/integer, so 0 or "true" is refused.
    enabled: bool = Field(default=False, strict=True)
    routes: list[Route] = Field(default_factory=list, max_length=20)
    greeting_text: str = Field(default="", max_length=500)
    max_voicemail_seconds: int = Field(default=120, ge=10, le=300, strict=True)
    missed_call_text_enabled: bool = Field(default=False, strict=True)
    missed_call_text: str = Field(default="", max_length=320)
    transcribe_voicemail: bool = Field(default=False, strict=True)


class ForwardingNumber(_Body):
    phone_number: str = Field(min_length=3, max_length=32)


class GreetingUpload(_Body):
    """A recorded greeting as base64 in JSON: the staff API reads JSON only (API Gateway's
    binary media types would turn every body binary-or-not by Content-Type), and the
    boundary bounds the body before it is parsed. Size and length are checked on the bytes."""

    content_type: str = Field(min_length=1, max_length=100)
    audio_base64: str = Field(min_length=1)
