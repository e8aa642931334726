"""The inbox's sign-in surviving a reload: resume a session from its refresh credential.

The browser never keeps the Cognito refresh token where a script can read it: it hands it
to the staff API once after sign-in, and the API keeps it in an HttpOnly cookie scoped to
the session routes (docs/access.md). On reload, the cookie comes back to the API, which
asks Cognito for a fresh ID token and answers it. Cognito refuses a revoked token (sign
out everywhere, a disabled user); this service then checks the server-side session the
same way every API request does (idle logoff, sign-out marker), so a reload never
revives a session the server has ended.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any, Protocol

from functions.core.errors import UnauthorizedError
from functions.logic.access import Principal, SessionGuard, principal_from_claims


class TokenRefresher(Protocol):
    def refresh(self, refresh_token: str) -> str:
        """A new ID token for the sign-in the refresh token belongs to; UnauthorizedError
        if Cognito refuses it (revoked, expired, user disabled)."""
        ...


@dataclass(frozen=True)
class ResumedSession:
    id_token: str
    expires_at: int  # epoch seconds of the ID token's expiry
    principal: Principal


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The payload of an ID token Cognito has just answered to us over TLS.

    Not signature-checked on purpose: the token did not come from the browser but from
    Cognito's own answer to this function, so its origin is the TLS connection. (Tokens
    the browser presents are checked by API Gateway's authorizer, as before.)
    """
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        raise UnauthorizedError("the identity provider answered no usable token") from None
    if not isinstance(claims, dict):
        raise UnauthorizedError("the identity provider answered no usable token")
    return claims


@dataclass
class BrowserSessions:
    refresher: TokenRefresher
    guard: SessionGuard

    def resume(self, refresh_token: str) -> ResumedSession:
        """A fresh ID token, only while Cognito and the server-side session both allow it."""
        if not refresh_token:
            raise UnauthorizedError("no session to resume")
        id_token = self.refresher.refresh(refresh_token)
        claims = id_token_claims(id_token)
        principal = principal_from_claims(claims)
        # Idle logoff and "sign out everywhere", exactly as for any API request. A locked
        # session is resumed still locked: its ID token is refused by every PHI route.
        self.guard.touch(principal, while_locked=True)
        try:
            expires_at = int(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise UnauthorizedError("token names no expiry") from None
        return ResumedSession(id_token, expires_at, principal)
