"""Who is calling (from the verified token), what their role allows, and idle logoff.

API Gateway's Cognito authorizer has already verified the token's signature, expiry and
audience; these claims are trusted, but every decision is taken here from them alone —
never from an id in the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ForbiddenError, SessionExpiredError, UnauthorizedError
from functions.core.models import Conversation
from functions.logic.ports import Outcome, SessionTouch

TENANT_CLAIM = "custom:tenant_id"
ROLE_CLAIM = "custom:role"


class Role(StrEnum):
    CLINICIAN = "clinician"
    ADMIN = "admin"


class _Alive:
    """The answer of a touch sent on its own (an `Outcome` like the DAL's)."""

    def __init__(self, alive: bool) -> None:
        self._alive = alive

    def get(self) -> bool:
        return self._alive


class PendingSession:
    """A request's idle-logoff touch, left for the service to send with its first reads.

    The service takes the touch (`to_send`), sends it in its data layer's read wave and
    hands the answer back (`settle`) before it decrypts, returns or changes anything. If
    it never does (it failed first, or the route's service reads nothing), `confirm`
    sends the touch on its own. One request, one thread: no locking.
    """

    def __init__(self, touch: SessionTouch, send: Callable[[SessionTouch], bool]) -> None:
        self._touch = touch
        self._send = send
        self._answer: Outcome[bool] | None = None

    def to_send(self) -> SessionTouch | None:
        """The touch to send with the first reads; None once it has been answered."""
        return self._touch if self._answer is None else None

    def settle(self, answer: Outcome[bool]) -> None:
        """Record the touch's answer; raise its error, or SessionExpiredError if dead."""
        self._answer = answer
        self.confirm()

    def confirm(self) -> None:
        """Send the touch now unless it was answered; raise if the session is dead."""
        if self._answer is None:
            self._answer = _Alive(self._send(self._touch))
        if not self._answer.get():
            raise SessionExpiredError("session ended: sign in again")


@dataclass(frozen=True)
class Principal:
    user_id: str  # Cognito `sub`
    tenant_id: str
    role: Role
    session_id: str  # stable across token refreshes of one sign-in
    auth_time: int  # epoch seconds of the sign-in (kept by refreshed tokens)
    # Set while the idle-logoff touch is left to the request's service (session_for).
    session: PendingSession | None = field(default=None, compare=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def session_to_send(self) -> SessionTouch | None:
        """The idle-logoff touch for the service's first reads, if one is still due."""
        return self.session.to_send() if self.session is not None else None

    def settle_session(self, answer: Outcome[bool] | None) -> None:
        """Check the session before anything is decrypted, returned or changed.

        `answer` is the touch's answer from the read wave (None if none was sent: then
        the touch, if still due, is sent now). Raises if the session is dead.
        """
        if self.session is None:
            return
        if answer is None:
            self.session.confirm()
        else:
            self.session.settle(answer)


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
        while_locked: bool = False,
    ) -> bool:
        """False if the session is dead; AppLockedError if locked (unless `while_locked`)."""
        ...

    def revoke_sessions(self, tenant_id: str, user_id: str, *, before: int) -> None: ...
    def lock_session(self, tenant_id: str, user_id: str, session_id: str) -> None: ...
    def unlock_session(self, tenant_id: str, user_id: str, session_id: str) -> None: ...


class SessionLock(Protocol):
    """The server side of the app lock, on the caller's session (SessionGuard)."""

    def lock(self, principal: Principal) -> None: ...
    def unlock(self, principal: Principal) -> None: ...


@dataclass
class SessionGuard:
    """HIPAA 164.312(a)(2)(iii) automatic logoff, enforced by the server.

    Every authenticated request moves the session's last-seen time; a request after more
    than `idle` without one (or after "sign out everywhere") is refused, even though the
    token itself has not expired yet.

    The app lock is kept on the same session row: while it is `locked`, the same touch
    refuses every request (AppLockedError, 423) except those declared `while_locked` (the
    unlock routes, sign-out, the lock state, the token refresh). So an ID token left in the
    page's memory is no use behind the lock screen, and enforcing it costs no round trip.
    """

    sessions: SessionRepository
    clock: Clock
    idle: timedelta = timedelta(minutes=15)

    def touch(self, principal: Principal, *, while_locked: bool = False) -> None:
        if not self._send(self._touch_of(principal, while_locked=while_locked)):
            raise SessionExpiredError("session ended: sign in again")

    def lock(self, principal: Principal) -> None:
        """Put the caller's session behind the app lock (the page's lock screen, enforced)."""
        self.sessions.lock_session(principal.tenant_id, principal.user_id, principal.session_id)

    def unlock(self, principal: Principal) -> None:
        """Lift the lock, after a PIN or passkey check; SessionExpiredError if it ended."""
        self.sessions.unlock_session(principal.tenant_id, principal.user_id, principal.session_id)

    @contextmanager
    def session_for(
        self, principal: Principal, *, overlap: bool = False, while_locked: bool = False
    ) -> Iterator[Principal]:
        """Touch the session around one request; yields the principal to act as.

        By default the touch completes before the request runs. With `overlap` (for
        requests whose service settles the session itself, see `Principal.settle_session`)
        the touch is left to the service, which sends it with its first reads in one
        round trip (functions/dal/store/waves.py). Either way the session is confirmed
        before the request's result is handed back, and a dead session outranks any
        error the request raised: the caller is answered and audited as signed out (or,
        for a locked session, as locked). `while_locked` lets the request past the lock.
        """
        if not overlap:
            self.touch(principal, while_locked=while_locked)
            yield principal
            return
        pending = PendingSession(self._touch_of(principal, while_locked=while_locked), self._send)
        try:
            yield replace(principal, session=pending)
        except Exception:
            pending.confirm()
            raise
        pending.confirm()

    def _touch_of(self, principal: Principal, *, while_locked: bool = False) -> SessionTouch:
        now = self.clock.now()
        return SessionTouch(
            principal.tenant_id,
            principal.user_id,
            principal.session_id,
            auth_time=principal.auth_time,
            now=iso(now),
            idle_cutoff=iso(now - self.idle),
            expires_at=int((now + timedelta(days=2)).timestamp()),
            while_locked=while_locked,
        )

    def _send(self, touch: SessionTouch) -> bool:
        return self.sessions.touch_session(
            touch.tenant_id,
            touch.user_id,
            touch.session_id,
            auth_time=touch.auth_time,
            now=touch.now,
            idle_cutoff=touch.idle_cutoff,
            expires_at=touch.expires_at,
            while_locked=touch.while_locked,
        )

    def sign_out_everywhere(self, tenant_id: str, user_id: str) -> None:
        """Tokens signed in before this second are refused, and every session in use now.

        A token's sign-in time has whole seconds: cutting off at the next second would
        refuse every sign-in made in the rest of this one (a user signing in again right
        after, or right after being re-enabled, would be refused for that whole session).
        Sessions already in use are ended by their row instead (functions/dal/sessions.py).
        """
        self.sessions.revoke_sessions(tenant_id, user_id, before=int(self.clock.now().timestamp()))
