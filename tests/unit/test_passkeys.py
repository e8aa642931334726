"""Passkeys verified server-side with py_webauthn: user verification required, our own
single-use challenge, the inbox's origin and RP id, the enrolled key only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.core.errors import ForbiddenError, NotFoundError, ValidationError
from functions.logic.access import Principal, Role
from functions.logic.audit import Outcome
from functions.logic.passkey_models import RelyingParty, StoredPasskey
from functions.logic.passkeys import PasskeyService
from tests.voice_fakes import FixedClock, RecordingAudit
from tests.webauthn_fakes import SoftAuthenticator

pytestmark = pytest.mark.unit

RP = RelyingParty(id="inbox.example.org", origin="https://inbox.example.org")
CLINICIAN = Principal("user-1", "harbor", Role.CLINICIAN, "session-1", 1_700_000_000)
COLLEAGUE = replace(CLINICIAN, user_id="user-2")
ADMIN = replace(CLINICIAN, user_id="admin-1", role=Role.ADMIN)


class MemoryPasskeyStore:
    def __init__(self) -> None:
        self.challenges: dict[tuple[str, str, str], tuple[bytes, int]] = {}
        self.keys: dict[tuple[str, str], dict[str, StoredPasskey]] = {}

    def save_challenge(
        self, tenant_id: str, user_id: str, purpose: str, challenge: bytes, *, expires_at: int
    ) -> None:
        self.challenges[(tenant_id, user_id, purpose)] = (challenge, expires_at)

    def take_challenge(
        self, tenant_id: str, user_id: str, purpose: str, *, now: int
    ) -> bytes | None:
        found = self.challenges.pop((tenant_id, user_id, purpose), None)
        return found[0] if found and found[1] >= now else None

    def passkeys(self, tenant_id: str, user_id: str) -> list[StoredPasskey]:
        return list(self.keys.get((tenant_id, user_id), {}).values())

    def put_passkey(self, tenant_id: str, user_id: str, passkey: StoredPasskey) -> None:
        self.keys.setdefault((tenant_id, user_id), {})[passkey.credential_id] = passkey

    def mark_used(
        self, tenant_id: str, user_id: str, credential_id: str, *, sign_count: int, at: str
    ) -> None:
        mine = self.keys[(tenant_id, user_id)]
        mine[credential_id] = replace(mine[credential_id], sign_count=sign_count, last_used_at=at)

    def delete_passkey(self, tenant_id: str, user_id: str, credential_id: str) -> bool:
        return self.keys.get((tenant_id, user_id), {}).pop(credential_id, None) is not None

    def delete_all(self, tenant_id: str, user_id: str) -> int:
        return len(self.keys.pop((tenant_id, user_id), {}))


class RecordingLocks:
    """The server-side app lock on the caller's session (SessionGuard in the API)."""

    def __init__(self) -> None:
        self.unlocked: list[str] = []

    def lock(self, principal: Principal) -> None:
        pass

    def unlock(self, principal: Principal) -> None:
        self.unlocked.append(principal.session_id)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC))


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def store() -> MemoryPasskeyStore:
    return MemoryPasskeyStore()


@pytest.fixture
def locks() -> RecordingLocks:
    return RecordingLocks()


@pytest.fixture
def service(
    store: MemoryPasskeyStore, audit: RecordingAudit, clock: FixedClock, locks: RecordingLocks
) -> PasskeyService:
    return PasskeyService(store, audit, clock, locks)


@pytest.fixture
def phone() -> SoftAuthenticator:
    return SoftAuthenticator(origin=RP.origin, rp_id=RP.id)


def _enrol(
    service: PasskeyService, device: SoftAuthenticator, who: Principal = CLINICIAN
) -> StoredPasskey:
    options = service.registration_options(who, RP)
    return service.register(who, RP, device.create(options), "My phone")


def _unlock(
    service: PasskeyService, credential: dict[str, Any], who: Principal = CLINICIAN
) -> None:
    service.unlock(who, RP, credential, request_id="req", source_ip="198.51.100.7")


def test_registration_options_require_user_verification_for_this_rp(
    service: PasskeyService,
) -> None:
    options = service.registration_options(CLINICIAN, RP)
    assert options["rp"] == {"id": RP.id, "name": "Quietline"}
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert len(options["challenge"]) >= 43  # 32+ random bytes, base64url


def test_an_enrolled_passkey_unlocks_and_the_use_is_audited(
    service: PasskeyService, phone: SoftAuthenticator, audit: RecordingAudit, locks: RecordingLocks
) -> None:
    enrolled = _enrol(service, phone)
    assert [p.name for p in service.list(CLINICIAN)] == ["My phone"]
    options = service.authentication_options(CLINICIAN, RP)
    assert options["userVerification"] == "required"
    assert [c["id"] for c in options["allowCredentials"]] == [enrolled.credential_id]
    _unlock(service, phone.get(options))
    assert locks.unlocked == [CLINICIAN.session_id]  # the server-side lock is lifted
    (used,) = service.list(CLINICIAN)
    assert used.sign_count == 1 and used.last_used_at is not None
    assert [(e.action, e.outcome) for e in audit.events] == [
        ("passkey.enrol", Outcome.SUCCESS),
        ("passkey.unlock", Outcome.SUCCESS),
    ]


def test_enrolment_without_user_verification_is_refused(service: PasskeyService) -> None:
    no_biometrics = SoftAuthenticator(origin=RP.origin, rp_id=RP.id, user_verified=False)
    with pytest.raises(ValidationError):
        _enrol(service, no_biometrics)
    assert service.list(CLINICIAN) == []


def test_an_assertion_without_user_verification_does_not_unlock(
    service: PasskeyService, phone: SoftAuthenticator, audit: RecordingAudit, locks: RecordingLocks
) -> None:
    _enrol(service, phone)
    options = service.authentication_options(CLINICIAN, RP)
    phone.user_verified = False  # presence only: someone else tapped the key
    with pytest.raises(ValidationError):
        _unlock(service, phone.get(options))
    assert [(e.action, e.outcome) for e in audit.events][-1] == ("passkey.unlock", Outcome.INVALID)
    assert locks.unlocked == []  # the session stays locked


def test_a_passkey_made_for_another_site_is_refused(service: PasskeyService) -> None:
    phishing = SoftAuthenticator(origin="https://inbox.example.org.evil.test", rp_id=RP.id)
    with pytest.raises(ValidationError):
        _enrol(service, phishing)


def test_a_challenge_is_single_use(service: PasskeyService, phone: SoftAuthenticator) -> None:
    _enrol(service, phone)
    assertion = phone.get(service.authentication_options(CLINICIAN, RP))
    _unlock(service, assertion)
    with pytest.raises(ValidationError):  # the same answer replayed
        _unlock(service, assertion)


def test_an_expired_challenge_is_refused(
    service: PasskeyService, phone: SoftAuthenticator, clock: FixedClock
) -> None:
    _enrol(service, phone)
    options = service.authentication_options(CLINICIAN, RP)
    clock.current = clock.current.replace(minute=6)
    with pytest.raises(ValidationError):
        _unlock(service, phone.get(options))


def test_a_colleagues_passkey_does_not_unlock_my_session(
    service: PasskeyService, phone: SoftAuthenticator
) -> None:
    theirs = SoftAuthenticator(origin=RP.origin, rp_id=RP.id)
    _enrol(service, phone)
    _enrol(service, theirs, COLLEAGUE)
    options = service.authentication_options(CLINICIAN, RP)
    with pytest.raises(ValidationError):
        _unlock(service, theirs.get({"challenge": options["challenge"]}))


def test_removing_one_and_an_admin_revoking_all(
    service: PasskeyService, phone: SoftAuthenticator
) -> None:
    first = _enrol(service, phone)
    _enrol(service, SoftAuthenticator(origin=RP.origin, rp_id=RP.id))
    service.remove(CLINICIAN, first.credential_id)
    assert len(service.list(CLINICIAN)) == 1
    with pytest.raises(NotFoundError):
        service.remove(CLINICIAN, first.credential_id)
    with pytest.raises(ForbiddenError):
        service.revoke_all(CLINICIAN, CLINICIAN.user_id)
    assert service.revoke_all(ADMIN, CLINICIAN.user_id) == 1
    assert service.list(CLINICIAN) == []
    with pytest.raises(NotFoundError):  # nothing left to unlock with
        service.authentication_options(CLINICIAN, RP)
