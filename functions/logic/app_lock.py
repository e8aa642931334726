"""The inbox's app lock: the practice's lock delay, and the 6-digit PIN that unlocks it.

The PIN is never stored readable: scrypt (memory-hard, a per-user random salt) over the
PIN, compared in constant time. Six digits are only a million guesses, so the hash alone
cannot stop an offline search of a stolen table; what stops guessing is that only this
server can check a PIN, and after `MAX_FAILURES` wrong ones in a row the PIN is deleted
and the user is signed out everywhere (Cognito refresh tokens revoked, server sessions
ended): the lock then needs a full sign-in with password and authenticator code.
Every set, success, failure and lockout is audited; no PIN or hash is ever in an event.

The lock itself is kept on the server-side session (`SessionLock`): locking marks it, and
only a right PIN (or a passkey, logic/passkeys.py) clears the mark; while it is set the
staff API refuses every PHI route (logic/access.py). A practice can also require every
user to have a PIN or a passkey (`require_unlock_method`, on by default): the inbox then
asks for one before it shows anything after sign-in (docs/access.md says why on).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ConflictError, SessionExpiredError, ValidationError
from functions.logic.access import Principal, SessionLock, require_admin
from functions.logic.audit import AuditEvent, AuditSink, Outcome

MAX_FAILURES = 5
DEFAULT_LOCK_AFTER_SECONDS = 120
MIN_LOCK_AFTER_SECONDS = 30
MAX_LOCK_AFTER_SECONDS = 900  # the server's idle logoff (15 minutes) ends it anyway
# On unless an admin turns it off: the practice's answer to "PIN or biometric access
# control" should not depend on each user finding the setting (docs/access.md).
DEFAULT_REQUIRE_UNLOCK_METHOD = True
_PIN = re.compile(r"[0-9]{6}")
_SEQUENCE = "0123456789012345"


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost: n=2**15, r=8 uses 32 MiB and tens of milliseconds per check."""

    n: int = 2**15
    r: int = 8
    p: int = 1
    length: int = 32


@dataclass(frozen=True)
class PinRecord:
    salt: bytes
    digest: bytes
    params: ScryptParams
    failures: int = 0


def hash_pin(pin: str, salt: bytes, params: ScryptParams) -> bytes:
    return hashlib.scrypt(
        pin.encode(),
        salt=salt,
        n=params.n,
        r=params.r,
        p=params.p,
        dklen=params.length,
        maxmem=256 * params.n * params.r,  # twice what it needs (default is 32 MiB)
    )


def new_pin_record(pin: str, params: ScryptParams) -> PinRecord:
    """A fresh record for `pin` (checked): a new 16-byte salt every time."""
    check_pin(pin)
    salt = os.urandom(16)
    return PinRecord(salt, hash_pin(pin, salt, params), params)


def pin_matches(pin: str, record: PinRecord) -> bool:
    """Constant-time comparison of the PIN's hash with the stored one."""
    candidate = hash_pin(pin, record.salt, record.params)
    return hmac.compare_digest(candidate, record.digest)


def check_pin(pin: str) -> None:
    """Six digits, and not one of the PINs guessed first (one repeated digit, a run)."""
    if not _PIN.fullmatch(pin):
        raise ValidationError("pin", "must be exactly 6 digits")
    if len(set(pin)) == 1 or pin in _SEQUENCE or pin in _SEQUENCE[::-1]:
        raise ValidationError("pin", "is too easy to guess (a repeated digit or a run)")


class AppLockRepository(Protocol):
    def lock_after_seconds(self, tenant_id: str) -> int | None: ...
    def set_lock_after_seconds(self, tenant_id: str, seconds: int) -> None: ...
    def require_unlock_method(self, tenant_id: str) -> bool | None: ...
    def set_require_unlock_method(self, tenant_id: str, required: bool) -> None: ...
    def pin(self, tenant_id: str, user_id: str) -> PinRecord | None: ...
    def put_pin(self, tenant_id: str, user_id: str, record: PinRecord, *, at: str) -> None: ...
    def count_failure(self, tenant_id: str, user_id: str) -> int | None:
        """Add one failure; the new count, or None if the PIN is gone meanwhile."""
        ...

    def clear_failures(self, tenant_id: str, user_id: str) -> None: ...
    def delete_pin(self, tenant_id: str, user_id: str) -> None: ...


class SignOut(Protocol):
    def sign_out(self, principal: Principal, user_id: str) -> None: ...


@dataclass(frozen=True)
class LockSettings:
    lock_after_seconds: int
    require_unlock_method: bool


@dataclass(frozen=True)
class LockState:
    lock_after_seconds: int
    pin_set: bool
    require_unlock_method: bool = DEFAULT_REQUIRE_UNLOCK_METHOD


@dataclass
class AppLockService:
    store: AppLockRepository
    sign_out: SignOut
    audit: AuditSink
    clock: Clock
    locks: SessionLock
    params: ScryptParams = ScryptParams()

    def state(self, principal: Principal) -> LockState:
        settings = self.settings(principal.tenant_id)
        pin = self.store.pin(principal.tenant_id, principal.user_id)
        return LockState(
            settings.lock_after_seconds, pin is not None, settings.require_unlock_method
        )

    def settings(self, tenant_id: str) -> LockSettings:
        seconds = self.store.lock_after_seconds(tenant_id)
        required = self.store.require_unlock_method(tenant_id)
        return LockSettings(
            seconds or DEFAULT_LOCK_AFTER_SECONDS,
            DEFAULT_REQUIRE_UNLOCK_METHOD if required is None else required,
        )

    def set_lock_after(self, principal: Principal, seconds: int) -> int:
        require_admin(principal)
        if not MIN_LOCK_AFTER_SECONDS <= seconds <= MAX_LOCK_AFTER_SECONDS:
            raise ValidationError(
                "lock_after_seconds",
                f"must be {MIN_LOCK_AFTER_SECONDS} to {MAX_LOCK_AFTER_SECONDS}",
            )
        self.store.set_lock_after_seconds(principal.tenant_id, seconds)
        return seconds

    def set_require_unlock_method(self, principal: Principal, required: bool) -> bool:
        require_admin(principal)
        self.store.set_require_unlock_method(principal.tenant_id, required)
        return required

    def lock(self, principal: Principal) -> None:
        """The page locked: the server refuses PHI to this session until it is unlocked."""
        self.locks.lock(principal)

    def set_pin(self, principal: Principal, pin: str) -> None:
        """Set or replace the caller's own PIN (the route audits it: pin.set)."""
        record = new_pin_record(pin, self.params)
        self.store.put_pin(principal.tenant_id, principal.user_id, record, at=iso(self.clock.now()))

    def unlock(self, principal: Principal, pin: str, *, request_id: str, source_ip: str) -> None:
        """Unlock with the PIN; 422 if wrong, 401 (signed out everywhere) at the fifth."""
        tenant, user = principal.tenant_id, principal.user_id
        record = self.store.pin(tenant, user)
        if record is None:
            raise ConflictError("no PIN is set: sign in again, then set one")

        def audit(action: str, outcome: Outcome) -> None:
            self.audit.record(
                AuditEvent(
                    action=action,
                    outcome=outcome,
                    actor=user,
                    tenant_id=tenant,
                    at=iso(self.clock.now()),
                    request_id=request_id,
                    source_ip=source_ip,
                )
            )

        if _PIN.fullmatch(pin) and pin_matches(pin, record):
            if record.failures:
                self.store.clear_failures(tenant, user)
            self.locks.unlock(principal)
            audit("pin.unlock", Outcome.SUCCESS)
            return
        failures = self.store.count_failure(tenant, user)
        if failures is None:  # deleted meanwhile (a lockout by a concurrent attempt)
            raise SessionExpiredError("locked out: sign in again")
        if failures < MAX_FAILURES:
            audit("pin.unlock", Outcome.INVALID)
            left = MAX_FAILURES - failures
            raise ValidationError("pin", f"is not right ({left} attempts left)")
        self.store.delete_pin(tenant, user)
        self.sign_out.sign_out(principal, user)
        audit("pin.lockout", Outcome.DENIED)
        raise SessionExpiredError("locked out: sign in again")
