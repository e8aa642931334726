"""Voice settings an admin keeps (routing, greeting, text-back) and each user's own
forwarding cell: the staff-facing configuration of voice (docs/voice.md, "Core")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from functions.core.errors import ValidationError
from functions.core.ids import new_id
from functions.core.phone import to_e164
from functions.core.voice import VoiceSettings
from functions.crypto.contexts import forwarding_number_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, require_admin
from functions.logic.greeting_audio import check_greeting
from functions.logic.voice_ports import StaffRoster, VoiceSettingsStore
from functions.logic.voice_settings import greeting_object_key, validate_voice_settings


class GreetingStore(Protocol):
    """The practice's greeting recordings by object key (the voicemail bucket in AWS).

    A greeting is the practice's own words, not a client's: not PHI, so it is stored as
    uploaded (SSE-KMS under the platform key) where a carrier can fetch and play it."""

    def put_greeting(self, object_key: str, audio: bytes, *, content_type: str) -> None: ...

    def delete_greeting(self, object_key: str) -> None: ...


@dataclass
class VoiceAdmin:
    settings: VoiceSettingsStore
    cipher: EnvelopeCipher
    # Enabled staff (Cognito), read when needed: routed clinicians must be live staff.
    staff: Callable[[], StaffRoster] | None = None
    greetings: GreetingStore | None = None
    # Whether this deployment can transcribe (a transcriber configured): an admin cannot
    # opt in to something that would silently never happen.
    transcription_available: bool = False

    def get_voice_settings(self, principal: Principal) -> VoiceSettings:
        require_admin(principal)
        return self.settings.get_voice_settings(principal.tenant_id)

    def update_voice_settings(self, principal: Principal, settings: VoiceSettings) -> VoiceSettings:
        """Store `settings`, keeping the uploaded greeting: only the greeting routes set or
        clear `greeting_recording_key`, so saving the form never drops a recording."""
        require_admin(principal)
        current = self.settings.get_voice_settings(principal.tenant_id)
        settings = replace(settings, greeting_recording_key=current.greeting_recording_key)
        validate_voice_settings(settings)
        if settings.transcribe_voicemail and not self.transcription_available:
            raise ValidationError("voice.transcribe_voicemail", "is not available here")
        self._require_routed_staff(principal.tenant_id, settings)
        self.settings.put_voice_settings(principal.tenant_id, settings)
        return settings

    def set_greeting(self, principal: Principal, audio: bytes, content_type: str) -> VoiceSettings:
        """Store the practice's recorded greeting and play it from now on; the previous
        recording (if any) is deleted once the settings point at the new one."""
        require_admin(principal)
        checked = check_greeting(audio, content_type)
        key = greeting_object_key(principal.tenant_id, new_id(), checked.extension)
        store = self._greetings()
        store.put_greeting(key, checked.audio, content_type=checked.content_type)
        return self._point_greeting_at(principal.tenant_id, key)

    def clear_greeting(self, principal: Principal) -> VoiceSettings:
        """Back to text-to-speech of the greeting text; the recording is deleted."""
        require_admin(principal)
        return self._point_greeting_at(principal.tenant_id, None)

    def _point_greeting_at(self, tenant_id: str, key: str | None) -> VoiceSettings:
        current = self.settings.get_voice_settings(tenant_id)
        updated = replace(current, greeting_recording_key=key)
        self.settings.put_voice_settings(tenant_id, updated)
        previous = current.greeting_recording_key
        if previous and previous != key:
            self._greetings().delete_greeting(previous)
        return updated

    def _greetings(self) -> GreetingStore:
        if self.greetings is None:  # a deployment without the voicemail bucket
            raise ValidationError("greeting", "recordings are not available without voice")
        return self.greetings

    def set_forwarding_number(self, principal: Principal, raw: str, *, region: str | None) -> str:
        """The principal's own cell, national format accepted in `region`; sealed under the
        tenant's key like a client's number. Returns only its last two digits."""
        number = to_e164(raw, field="forwarding_number", default_region=region)
        record = self.cipher.encrypt(
            forwarding_number_location(principal.tenant_id, principal.user_id), number
        )
        self.settings.put_forwarding_record(
            principal.tenant_id, principal.user_id, record.to_bytes()
        )
        return number[-2:]

    def clear_forwarding_number(self, principal: Principal) -> None:
        self.settings.delete_forwarding_record(principal.tenant_id, principal.user_id)

    def _require_routed_staff(self, tenant_id: str, settings: VoiceSettings) -> None:
        """Every routed user id is enabled staff of this practice. Unknown, disabled and
        other-tenant ids get one answer naming the field only (as assignment does), so an
        admin cannot probe another practice's user ids."""
        for index, route in enumerate(settings.routes):
            for position, user_id in enumerate(route.user_ids):
                if self.staff is None or not self.staff().is_active_staff(tenant_id, user_id):
                    raise ValidationError(
                        f"voice.routes[{index}].user_ids[{position}]",
                        "must be an enabled staff member of this practice",
                    )
