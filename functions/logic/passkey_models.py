"""What the passkey routes and their store share, without loading py_webauthn (the API
imports this at init; the verifier loads on a passkey request only)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkey is for: the inbox's host (RP id) and origin, from the deployment."""

    id: str
    origin: str
    name: str = "Quietline"


@dataclass(frozen=True)
class StoredPasskey:
    credential_id: str  # base64url, as WebAuthn names it
    public_key: bytes  # COSE
    sign_count: int
    name: str
    created_at: str
    last_used_at: str | None = None
    # The relying party it was made for (the inbox's host and origin at enrolment):
    # passkey sign-in checks against these. Empty for passkeys enrolled before sign-in
    # existed: they unlock, but do not sign in until enrolled again.
    rp_id: str = ""
    origin: str = ""
