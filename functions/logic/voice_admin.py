"""Voice settings an admin keeps (routing, greeting, text-back) and each user's own
forwarding cell: the staff-facing configuration of voice (docs/voice.md, "Core")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from functions.core.errors import ValidationError
from functions.core.phone import to_e164
from functions.core.voice import VoiceSettings
from functions.crypto.contexts import forwarding_number_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, require_admin
from functions.logic.voice_ports import StaffRoster, VoiceSettingsStore
from functions.logic.voice_settings import validate_voice_settings


@dataclass
class VoiceAdmin:
    settings: VoiceSettingsStore
    cipher: EnvelopeCipher
    # Enabled staff (Cognito), read when needed: routed clinicians must be live staff.
    staff: Callable[[], StaffRoster] | None = None

    def get_voice_settings(self, principal: Principal) -> VoiceSettings:
        require_admin(principal)
        return self.settings.get_voice_settings(principal.tenant_id)

    def update_voice_settings(self, principal: Principal, settings: VoiceSettings) -> VoiceSettings:
        require_admin(principal)
        validate_voice_settings(settings)
        self._require_routed_staff(principal.tenant_id, settings)
        self.settings.put_voice_settings(principal.tenant_id, settings)
        return settings

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
