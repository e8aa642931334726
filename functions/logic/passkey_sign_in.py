"""Signing in with a passkey: Cognito's custom-authentication triggers, decided here.

Cognito runs the flow (`InitiateAuth` with `AuthFlow=CUSTOM_AUTH`) and issues the tokens;
these three steps decide it (docs/access.md, "Passkey sign-in"):

- define: exactly one challenge, ours; tokens only when that one answer was accepted.
  Anything else in the session (an `SRP_A` a client slipped into the flow, a second try)
  fails the sign-in, so no password can reach tokens on this path without the TOTP that
  the password flow demands.
- create: WebAuthn request options with a fresh challenge, user verification required
  and no credential list, identical whether or not the address has an account or a
  passkey (nothing to enumerate). The challenge stays in Cognito's session
  (`privateChallengeParameters`), single use by construction.
- verify: the signature under a public key this user enrolled, for the relying party and
  origin it was enrolled for, with user verification (Face ID, a fingerprint, the
  device's PIN): possession and a second factor in one gesture. Audited either way.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from webauthn import generate_authentication_options, options_to_json
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import UserVerificationRequirement

from functions.core.clock import Clock, iso
from functions.logic.access import TENANT_CLAIM
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.passkey_models import RelyingParty
from functions.logic.passkeys import PasskeyRepository, check_assertion

CUSTOM_CHALLENGE = "CUSTOM_CHALLENGE"
CHALLENGE_METADATA = "QUIETLINE_PASSKEY"  # marks the session entry as this flow's challenge
OPTIONS_PARAMETER = "passkey_options"  # public: what the page hands navigator.credentials
CHALLENGE_PARAMETER = "challenge"  # private: kept by Cognito between create and verify
MAX_ANSWER_BYTES = 16_384  # an assertion is a few hundred bytes; refuse anything huge
# WebAuthn needs an RP id to build options; it is removed from what the page gets (the
# browser then uses its own host, the inbox's), so the value never leaves this module.
_PLACEHOLDER_RP = "quietline.invalid"


@dataclass(frozen=True)
class Attempt:
    """One entry of Cognito's session: a challenge that was answered, and how."""

    challenge_name: str
    result: bool
    metadata: str = ""


@dataclass(frozen=True)
class Decision:
    challenge_name: str = ""
    issue_tokens: bool = False
    fail: bool = False


@dataclass(frozen=True)
class StaffMember:
    """Who is signing in, from the user's pool attributes (Cognito's, not the caller's)."""

    tenant_id: str
    user_id: str

    @classmethod
    def from_attributes(
        cls, attributes: dict[str, Any], user_not_found: bool
    ) -> StaffMember | None:
        tenant, user = attributes.get(TENANT_CLAIM), attributes.get("sub")
        if user_not_found or not (isinstance(tenant, str) and isinstance(user, str)):
            return None
        return cls(tenant, user) if tenant and user else None


def decide(session: Sequence[Attempt]) -> Decision:
    """The define-auth-challenge step: one passkey challenge, then tokens or failure."""
    if not session:
        return Decision(challenge_name=CUSTOM_CHALLENGE)
    only = session[0]
    accepted = (
        len(session) == 1
        and only.challenge_name == CUSTOM_CHALLENGE
        and only.metadata == CHALLENGE_METADATA
        and only.result
    )
    return Decision(issue_tokens=True) if accepted else Decision(fail=True)


def challenge() -> tuple[dict[str, str], dict[str, str]]:
    """The create-auth-challenge step: (public, private) challenge parameters."""
    options = generate_authentication_options(
        rp_id=_PLACEHOLDER_RP,
        challenge=secrets.token_bytes(32),
        allow_credentials=[],  # discoverable credentials: the device offers this site's
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    public: dict[str, Any] = json.loads(options_to_json(options))
    public.pop("rpId", None)
    return (
        {OPTIONS_PARAMETER: json.dumps(public, separators=(",", ":"))},
        {CHALLENGE_PARAMETER: bytes_to_base64url(options.challenge)},
    )


@dataclass
class PasskeySignIn:
    """The verify-auth-challenge step, on the same passkeys the app lock uses."""

    store: PasskeyRepository
    audit: AuditSink
    clock: Clock

    def verify(
        self,
        member: StaffMember | None,
        private: dict[str, str],
        answer: str,
        *,
        request_id: str = "",
    ) -> bool:
        if member is None:  # no such user (Cognito hides which): refused like a bad answer
            return False
        credential = _credential(answer)
        challenge = private.get(CHALLENGE_PARAMETER, "")
        known = {p.credential_id: p for p in self.store.passkeys(member.tenant_id, member.user_id)}
        passkey = known.get(str(credential.get("id", ""))) if credential else None
        new_count = None
        if credential and challenge and passkey is not None and passkey.rp_id:
            rp = RelyingParty(id=passkey.rp_id, origin=passkey.origin)
            new_count = check_assertion(credential, base64url_to_bytes(challenge), rp, passkey)
        if passkey is None or new_count is None:
            self._audit(member, Outcome.INVALID, request_id)
            return False
        self.store.mark_used(
            member.tenant_id,
            member.user_id,
            passkey.credential_id,
            sign_count=new_count,
            at=iso(self.clock.now()),
        )
        self._audit(member, Outcome.SUCCESS, request_id)
        return True

    def _audit(self, member: StaffMember, outcome: Outcome, request_id: str) -> None:
        self.audit.record(
            AuditEvent(
                action="passkey.sign_in",
                outcome=outcome,
                actor=member.user_id,
                tenant_id=member.tenant_id,
                at=iso(self.clock.now()),
                request_id=request_id,
            )
        )


def _credential(answer: str) -> dict[str, Any] | None:
    if not isinstance(answer, str) or len(answer.encode()) > MAX_ANSWER_BYTES:
        return None
    try:
        parsed = json.loads(answer)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None
