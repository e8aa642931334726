"""The app lock's PIN: a slow salted hash, checked in constant time, five tries, then out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from functions.core.errors import (
    ConflictError,
    ForbiddenError,
    SessionExpiredError,
    ValidationError,
)
from functions.logic.access import Principal, Role
from functions.logic.app_lock import (
    DEFAULT_LOCK_AFTER_SECONDS,
    AppLockService,
    PinRecord,
    ScryptParams,
    check_pin,
    hash_pin,
    new_pin_record,
    pin_matches,
)
from functions.logic.audit import Outcome
from tests.voice_fakes import FixedClock, RecordingAudit

pytestmark = pytest.mark.unit

PIN = "482915"
CHEAP = ScryptParams(n=2**4, r=8, p=1)  # the same code path at a test's speed
CLINICIAN = Principal("user-1", "harbor", Role.CLINICIAN, "session-1", 1_700_000_000)
ADMIN = replace(CLINICIAN, user_id="admin-1", role=Role.ADMIN)


class MemoryLockStore:
    def __init__(self) -> None:
        self.pins: dict[tuple[str, str], PinRecord] = {}
        self.delays: dict[str, int] = {}
        self.required: dict[str, bool] = {}

    def lock_after_seconds(self, tenant_id: str) -> int | None:
        return self.delays.get(tenant_id)

    def set_lock_after_seconds(self, tenant_id: str, seconds: int) -> None:
        self.delays[tenant_id] = seconds

    def require_unlock_method(self, tenant_id: str) -> bool | None:
        return self.required.get(tenant_id)

    def set_require_unlock_method(self, tenant_id: str, required: bool) -> None:
        self.required[tenant_id] = required

    def pin(self, tenant_id: str, user_id: str) -> PinRecord | None:
        return self.pins.get((tenant_id, user_id))

    def put_pin(self, tenant_id: str, user_id: str, record: PinRecord, *, at: str) -> None:
        self.pins[(tenant_id, user_id)] = record

    def count_failure(self, tenant_id: str, user_id: str) -> int | None:
        record = self.pins.get((tenant_id, user_id))
        if record is None:
            return None
        self.pins[(tenant_id, user_id)] = replace(record, failures=record.failures + 1)
        return record.failures + 1

    def clear_failures(self, tenant_id: str, user_id: str) -> None:
        self.pins[(tenant_id, user_id)] = replace(self.pins[(tenant_id, user_id)], failures=0)

    def delete_pin(self, tenant_id: str, user_id: str) -> None:
        self.pins.pop((tenant_id, user_id), None)


class RecordingSignOut:
    def __init__(self) -> None:
        self.signed_out: list[str] = []

    def sign_out(self, principal: Principal, user_id: str) -> None:
        self.signed_out.append(user_id)


class RecordingLocks:
    """The server-side lock on the caller's session (SessionGuard in the API)."""

    def __init__(self) -> None:
        self.locked: set[str] = set()

    def lock(self, principal: Principal) -> None:
        self.locked.add(principal.session_id)

    def unlock(self, principal: Principal) -> None:
        self.locked.discard(principal.session_id)


@pytest.fixture
def locks() -> RecordingLocks:
    return RecordingLocks()


@pytest.fixture
def store() -> MemoryLockStore:
    return MemoryLockStore()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def signed_out() -> RecordingSignOut:
    return RecordingSignOut()


@pytest.fixture
def service(
    store: MemoryLockStore,
    audit: RecordingAudit,
    signed_out: RecordingSignOut,
    locks: RecordingLocks,
) -> AppLockService:
    clock = FixedClock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))
    return AppLockService(store, signed_out, audit, clock, locks, CHEAP)


def _unlock(service: AppLockService, pin: str) -> None:
    service.unlock(CLINICIAN, pin, request_id="req", source_ip="198.51.100.7")


# --- hashing ----------------------------------------------------------------------------------
def test_the_stored_record_is_a_salted_hash_not_the_pin() -> None:
    record = new_pin_record(PIN, CHEAP)
    assert PIN.encode() not in record.digest and PIN.encode() not in record.salt
    assert len(record.salt) == 16
    # the same PIN under another salt hashes differently (no shared rainbow table)
    assert new_pin_record(PIN, CHEAP).digest != record.digest


def test_the_hash_is_scrypt_with_the_records_own_salt_and_cost() -> None:
    import hashlib

    salt = bytes(range(16))
    expected = hashlib.scrypt(PIN.encode(), salt=salt, n=2**4, r=8, p=1, dklen=32)
    assert hash_pin(PIN, salt, CHEAP) == expected


def test_the_default_cost_is_memory_hard() -> None:
    # 128 * n * r bytes of memory per check: at least 16 MiB makes GPU guessing expensive.
    params = ScryptParams()
    assert 128 * params.n * params.r >= 16 * 2**20
    record = new_pin_record(PIN, params)  # and it runs within hashlib's memory limit
    assert pin_matches(PIN, record)


def test_only_the_right_pin_matches() -> None:
    record = new_pin_record(PIN, CHEAP)
    assert pin_matches(PIN, record)
    assert not pin_matches("482916", record)


@pytest.mark.parametrize(
    "pin", ["12345", "1234567", "48291a", "", " 48291", "000000", "123456", "987654", "٤٨٢٩١٥"]
)
def test_a_pin_must_be_six_digits_and_not_trivial(pin: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_pin(pin)
    assert refused.value.field == "pin"
    assert not pin or pin not in str(refused.value)  # the message never echoes the input


# --- the service ------------------------------------------------------------------------------
def test_setting_a_pin_then_unlocking_with_it(
    service: AppLockService, audit: RecordingAudit
) -> None:
    assert service.state(CLINICIAN).pin_set is False
    service.set_pin(CLINICIAN, PIN)
    assert service.state(CLINICIAN).pin_set is True
    _unlock(service, PIN)
    assert [(e.action, e.outcome) for e in audit.events] == [("pin.unlock", Outcome.SUCCESS)]


def test_a_wrong_pin_is_refused_and_says_how_many_tries_are_left(
    service: AppLockService, audit: RecordingAudit
) -> None:
    service.set_pin(CLINICIAN, PIN)
    with pytest.raises(ValidationError) as refused:
        _unlock(service, "111222")
    assert refused.value.field == "pin" and "4 attempts left" in refused.value.problem
    assert [(e.action, e.outcome) for e in audit.events] == [("pin.unlock", Outcome.INVALID)]


def test_a_right_pin_before_the_fifth_failure_resets_the_count(
    service: AppLockService, store: MemoryLockStore
) -> None:
    service.set_pin(CLINICIAN, PIN)
    for _ in range(4):
        with pytest.raises(ValidationError):
            _unlock(service, "111222")
    _unlock(service, PIN)
    record = store.pin("harbor", "user-1")
    assert record is not None and record.failures == 0
    with pytest.raises(ValidationError) as refused:  # a full five tries again
        _unlock(service, "111222")
    assert "4 attempts left" in refused.value.problem


def test_the_fifth_wrong_pin_deletes_it_and_signs_the_user_out_everywhere(
    service: AppLockService,
    store: MemoryLockStore,
    audit: RecordingAudit,
    signed_out: RecordingSignOut,
) -> None:
    service.set_pin(CLINICIAN, PIN)
    for _ in range(4):
        with pytest.raises(ValidationError):
            _unlock(service, "111222")
    with pytest.raises(SessionExpiredError):
        _unlock(service, "111222")
    assert signed_out.signed_out == ["user-1"]
    assert store.pin("harbor", "user-1") is None
    # even the right PIN no longer unlocks: a full sign-in is needed
    with pytest.raises(ConflictError):
        _unlock(service, PIN)
    assert [(e.action, e.outcome) for e in audit.events] == [
        *[("pin.unlock", Outcome.INVALID)] * 4,
        ("pin.lockout", Outcome.DENIED),
    ]
    assert all(PIN not in repr(e) and "111222" not in repr(e) for e in audit.events)


def test_unlocking_without_a_pin_set_is_a_conflict(service: AppLockService) -> None:
    with pytest.raises(ConflictError):
        _unlock(service, PIN)


def test_the_lock_delay_defaults_and_admins_change_it_within_bounds(
    service: AppLockService,
) -> None:
    assert service.state(CLINICIAN).lock_after_seconds == DEFAULT_LOCK_AFTER_SECONDS
    assert service.set_lock_after(ADMIN, 300) == 300
    assert service.state(CLINICIAN).lock_after_seconds == 300
    with pytest.raises(ValidationError):
        service.set_lock_after(ADMIN, 5)
    with pytest.raises(ValidationError):
        service.set_lock_after(ADMIN, 3600)
    with pytest.raises(ForbiddenError):
        service.set_lock_after(CLINICIAN, 300)


# --- the server-side lock and the practice's requirement -------------------------------------
def test_locking_marks_the_session_and_only_the_right_pin_lifts_the_mark(
    service: AppLockService, locks: RecordingLocks
) -> None:
    # Given a clinician with a PIN whose page has locked
    service.set_pin(CLINICIAN, PIN)
    service.lock(CLINICIAN)
    assert locks.locked == {"session-1"}
    # When a wrong PIN is tried, the session stays locked
    with pytest.raises(ValidationError):
        _unlock(service, "111222")
    assert locks.locked == {"session-1"}
    # Then the right one lifts the lock
    _unlock(service, PIN)
    assert locks.locked == set()


def test_a_practice_requires_a_pin_or_passkey_unless_an_admin_turns_it_off(
    service: AppLockService,
) -> None:
    # Given a practice that never chose: the requirement is on
    assert service.state(CLINICIAN).require_unlock_method is True
    # When an admin turns it off, every user's state says so
    assert service.set_require_unlock_method(ADMIN, False) is False
    assert service.state(CLINICIAN).require_unlock_method is False
    # and a clinician may not change it
    with pytest.raises(ForbiddenError):
        service.set_require_unlock_method(CLINICIAN, True)
    assert service.settings("harbor").require_unlock_method is False
