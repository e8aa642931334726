"""Passkeys (WebAuthn, user verification required) to unlock the inbox, verified here.

Enrolment and every unlock are checked server-side with py_webauthn: the challenge is
ours (random, single use, five minutes), the origin and relying-party id are the inbox's,
the authenticator must report user verification (Face ID, Touch ID, Android biometrics,
Windows Hello, a PIN on a security key), and the signature must verify under the public
key stored at enrolment. Public keys are not secrets and not PHI; they are kept per
tenant and user (docs/data-model.md). Why not Cognito's own passkeys: docs/access.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from functions.core.clock import Clock, iso
from functions.core.errors import NotFoundError, ValidationError
from functions.logic.access import Principal, SessionLock, require_admin
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.passkey_models import RelyingParty, StoredPasskey

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_PASSKEYS = 10  # per user: phones, a laptop, a spare key
ENROL, UNLOCK = "enrol", "unlock"


def check_assertion(
    credential: dict[str, Any], challenge: bytes, rp: RelyingParty, passkey: StoredPasskey
) -> int | None:
    """The authenticator's new signature count if `credential` answers `challenge` with
    `passkey`, user verified, for `rp`; None if it does not (never an exception: what a
    browser sends is the caller's to refuse)."""
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        return None
    return int(verified.new_sign_count)


class PasskeyRepository(Protocol):
    def save_challenge(
        self, tenant_id: str, user_id: str, purpose: str, challenge: bytes, *, expires_at: int
    ) -> None: ...

    def take_challenge(
        self, tenant_id: str, user_id: str, purpose: str, *, now: int
    ) -> bytes | None:
        """The challenge, deleted as it is read (single use); None if none or expired."""
        ...

    def passkeys(self, tenant_id: str, user_id: str) -> list[StoredPasskey]: ...
    def put_passkey(self, tenant_id: str, user_id: str, passkey: StoredPasskey) -> None: ...
    def mark_used(
        self, tenant_id: str, user_id: str, credential_id: str, *, sign_count: int, at: str
    ) -> None: ...

    def delete_passkey(self, tenant_id: str, user_id: str, credential_id: str) -> bool: ...
    def delete_all(self, tenant_id: str, user_id: str) -> int: ...


@dataclass
class PasskeyService:
    store: PasskeyRepository
    audit: AuditSink
    clock: Clock
    locks: SessionLock  # a verified unlock lifts the server-side app lock

    # --- enrolment --------------------------------------------------------------------------
    def registration_options(self, principal: Principal, rp: RelyingParty) -> dict[str, Any]:
        existing = self.store.passkeys(principal.tenant_id, principal.user_id)
        options = generate_registration_options(
            rp_id=rp.id,
            rp_name=rp.name,
            user_id=principal.user_id.encode(),
            user_name=principal.user_id,  # an id, not an e-mail: nothing personal on the key
            user_display_name="Quietline",
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED,
                user_verification=UserVerificationRequirement.REQUIRED,
            ),
            exclude_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                for p in existing
            ],
        )
        self._remember(principal, ENROL, options.challenge)
        answer: dict[str, Any] = json.loads(options_to_json(options))
        return answer

    def register(
        self,
        principal: Principal,
        rp: RelyingParty,
        credential: dict[str, Any],
        name: str,
        *,
        request_id: str = "",
        source_ip: str = "",
    ) -> StoredPasskey:
        tenant, user = principal.tenant_id, principal.user_id
        if len(self.store.passkeys(tenant, user)) >= MAX_PASSKEYS:
            raise ValidationError("credential", f"at most {MAX_PASSKEYS} passkeys per person")
        challenge = self._challenge(principal, ENROL)
        try:
            verified = verify_registration_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origin,
                require_user_verification=True,
            )
        except (WebAuthnException, ValueError, KeyError, TypeError):
            self._audit(principal, "passkey.enrol", Outcome.INVALID, request_id, source_ip)
            raise ValidationError("credential", "was not accepted") from None
        passkey = StoredPasskey(
            bytes_to_base64url(verified.credential_id),
            verified.credential_public_key,
            verified.sign_count,
            name.strip() or "Passkey",
            iso(self.clock.now()),
            rp_id=rp.id,  # kept for sign-in, which Cognito runs without the inbox's origin
            origin=rp.origin,
        )
        self.store.put_passkey(tenant, user, passkey)
        self._audit(principal, "passkey.enrol", Outcome.SUCCESS, request_id, source_ip)
        return passkey

    def list(self, principal: Principal) -> list[StoredPasskey]:
        return self.store.passkeys(principal.tenant_id, principal.user_id)

    def remove(
        self, principal: Principal, credential_id: str, *, request_id: str = "", source_ip: str = ""
    ) -> None:
        if not self.store.delete_passkey(principal.tenant_id, principal.user_id, credential_id):
            raise NotFoundError("no such passkey")
        self._audit(principal, "passkey.remove", Outcome.SUCCESS, request_id, source_ip)

    def revoke_all(self, principal: Principal, user_id: str) -> int:
        """An admin removes every passkey of one of the practice's staff (a lost phone)."""
        require_admin(principal)
        return self.store.delete_all(principal.tenant_id, user_id)

    # --- unlock -----------------------------------------------------------------------------
    def authentication_options(self, principal: Principal, rp: RelyingParty) -> dict[str, Any]:
        existing = self.store.passkeys(principal.tenant_id, principal.user_id)
        if not existing:
            raise NotFoundError("no passkey enrolled")
        options = generate_authentication_options(
            rp_id=rp.id,
            allow_credentials=[
                PublicKeyCredentialDescriptor(id=base64url_to_bytes(p.credential_id))
                for p in existing
            ],
            user_verification=UserVerificationRequirement.REQUIRED,
        )
        self._remember(principal, UNLOCK, options.challenge)
        answer: dict[str, Any] = json.loads(options_to_json(options))
        return answer

    def unlock(
        self,
        principal: Principal,
        rp: RelyingParty,
        credential: dict[str, Any],
        *,
        request_id: str,
        source_ip: str,
    ) -> None:
        tenant, user = principal.tenant_id, principal.user_id
        challenge = self._challenge(principal, UNLOCK)
        known = {p.credential_id: p for p in self.store.passkeys(tenant, user)}
        passkey = known.get(str(credential.get("id", "")))
        new_count = None if passkey is None else check_assertion(credential, challenge, rp, passkey)
        if passkey is None or new_count is None:
            self._audit(principal, "passkey.unlock", Outcome.INVALID, request_id, source_ip)
            raise ValidationError("credential", "was not accepted")
        self.store.mark_used(
            tenant, user, passkey.credential_id, sign_count=new_count, at=iso(self.clock.now())
        )
        self.locks.unlock(principal)
        self._audit(principal, "passkey.unlock", Outcome.SUCCESS, request_id, source_ip)

    # --- helpers ----------------------------------------------------------------------------
    def _remember(self, principal: Principal, purpose: str, challenge: bytes) -> None:
        expires = int((self.clock.now() + CHALLENGE_LIFETIME).timestamp())
        self.store.save_challenge(
            principal.tenant_id, principal.user_id, purpose, challenge, expires_at=expires
        )

    def _challenge(self, principal: Principal, purpose: str) -> bytes:
        now = int(self.clock.now().timestamp())
        found = self.store.take_challenge(principal.tenant_id, principal.user_id, purpose, now=now)
        if found is None:
            raise ValidationError("credential", "no current challenge: ask for options again")
        return found

    def _audit(
        self, principal: Principal, action: str, outcome: Outcome, request_id: str, source_ip: str
    ) -> None:
        self.audit.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                actor=principal.user_id,
                tenant_id=principal.tenant_id,
                at=iso(self.clock.now()),
                request_id=request_id,
                source_ip=source_ip,
            )
        )
