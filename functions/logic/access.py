"""Who is calling (from the verified token), what their role allows, and idle logoff.

API Gateway's Cognito authorizer has already verified the token's signature, expiry and
audience; these claims are trusted, but every decision is taken here from them alone —
never from an id in the request.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from functions.core.clock import Clock, iso
from functions.core.concurrency import start
from functions.core.errors import ForbiddenError, SessionExpiredError, UnauthorizedError
from functions.core.models import Conversation

TENANT_CLAIM = "custom:tenant_id"
ROLE_CLAIM = "custom:role"


class Role(StrEnum):
    CLINICIAN = "clinician"
    ADMIN = "admin"


class SessionCheck:
    """A session touch in flight: `confirm` waits for it and raises if the session is dead."""

    def __init__(self, touched: Future[bool]) -> None:
        self._touched = touched

    def confirm(self) -> None:
        if not self._touched.result():
            raise SessionExpiredError("session ended: sign in again")


@dataclass(frozen=True)
class Principal:
    user_id: str  # Cognito `sub`
    tenant_id: str
    role: Role
    session_id: str  # stable across token refreshes of one sign-in
    auth_time: int  # epoch seconds of the sign-in (kept by refreshed tokens)
    # Set while the idle-logoff touch is still in flight (SessionGuard.session_for).
    session: SessionCheck | None = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def confirm_session(self) -> None:
        """Wait for the session touch if it is still in flight; raise if the session is dead.

        Call it before anything is decrypted, returned or changed (a no-op once the touch
        has been confirmed, and for a principal whose session was confirmed up front).
        """
        if self.session is not None:
            self.session.confirm()


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """Raise UnauthorizedError unless the claims are a Quietline ID token's."""
    if claims.get("token_use") != "id":
        raise UnauthorizedError("an ID token is required")
    user_id, tenant_id, role = claims.get("sub"), claims.get(TENANT_CLAIM), claims.get(ROLE_CLAIM)
    if not (isinstance(user_id, str) and user_id and isinstance(tenant_id, str) and tenant_id):
        raise UnauthorizedError("token names no user or tenant")
    if role not in {r.value for r in Role}:
        raise UnauthorizedError("token names no known role")
    try:
        auth_time = int(claims.get("auth_time", ""))
    except (TypeError, ValueError):
        raise UnauthorizedError("token names no sign-in time") from None
    session = claims.get("origin_jti") or auth_time
    return Principal(user_id, tenant_id, Role(role), str(session), auth_time)


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ForbiddenError("this needs the admin role")


def can_see(principal: Principal, conversation: Conversation) -> bool:
    """Group practices: clinicians see their own and unassigned conversations."""
    return principal.is_admin or conversation.assigned_to in (None, principal.user_id)


class SessionRepository(Protocol):
    def touch_session(
        self,
        tenant_id: str,
        user_id: str,
        session_id: str,
        *,
        auth_time: int,
        now: str,
        idle_cutoff: str,
        expires_at: int,
    ) -> bool: ...

    def revoke_sessions(self, tenant_id: str, user_id: str, *, before: int) -> None: ...


@dataclass
class SessionGuard:
    """HIPAA 164.312(a)(2)(iii) automatic logoff, enforced by the server.

    Every authenticated request moves the session's last-seen time; a request after more
    than `idle` without one (or after "sign out everywhere") is refused, even though the
    token itself has not expired yet.
    """

    sessions: SessionRepository
    clock: Clock
    idle: timedelta = timedelta(minutes=15)

    def touch(self, principal: Principal) -> None:
        if not self._touch(principal):
            raise SessionExpiredError("session ended: sign in again")

    @contextmanager
    def session_for(self, principal: Principal, *, overlap: bool = False) -> Iterator[Principal]:
        """Touch the session around one request; yields the principal to act as.

        By default the touch completes before the request runs. With `overlap` (for
        read-only requests whose service confirms the session itself, see
        `Principal.confirm_session`) it runs alongside the request's first reads, so
        it costs no round trip of its own. Either way the session is confirmed before
        the request's result is handed back, and a dead session outranks any error the
        request raised: the caller is answered and audited as signed out, as before.
        """
        if not overlap:
            self.touch(principal)
            yield principal
            return
        check = SessionCheck(start(lambda: self._touch(principal)))
        try:
            yield replace(principal, session=check)
        except Exception:
            check.confirm()
            raise
        check.confirm()

    def _touch(self, principal: Principal) -> bool:
        now = self.clock.now()
        return self.sessions.touch_session(
            principal.tenant_id,
            principal.user_id,
            principal.session_id,
            auth_time=principal.auth_time,
            now=iso(now),
            idle_cutoff=iso(now - self.idle),
            expires_at=int((now + timedelta(days=2)).timestamp()),
        )

    def sign_out_everywhere(self, tenant_id: str, user_id: str) -> None:
        # +1: a token issued in this very second is also before the sign-out.
        self.sessions.revoke_sessions(
            tenant_id, user_id, before=int(self.clock.now().timestamp()) + 1
        )
