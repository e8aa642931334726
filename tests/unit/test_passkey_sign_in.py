"""Passkey sign-in through Cognito's custom-authentication triggers: one challenge of ours,
tokens only for an accepted answer, verified against the enrolled key and its origin."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from functions.handlers import passkey_sign_in as triggers
from functions.logic import passkey_sign_in as flow
from functions.logic.audit import Outcome
from functions.logic.passkey_models import RelyingParty
from functions.logic.passkey_sign_in import Attempt, PasskeySignIn, StaffMember
from functions.logic.passkeys import PasskeyService
from tests.unit.test_passkeys import CLINICIAN, COLLEAGUE, RP, MemoryPasskeyStore, RecordingLocks
from tests.voice_fakes import FixedClock, RecordingAudit
from tests.webauthn_fakes import SoftAuthenticator

pytestmark = pytest.mark.unit

MEMBER = StaffMember(CLINICIAN.tenant_id, CLINICIAN.user_id)
OURS = Attempt(flow.CUSTOM_CHALLENGE, True, flow.CHALLENGE_METADATA)


@pytest.fixture
def store() -> MemoryPasskeyStore:
    return MemoryPasskeyStore()


@pytest.fixture
def audit() -> RecordingAudit:
    return RecordingAudit()


@pytest.fixture
def sign_in(store: MemoryPasskeyStore, audit: RecordingAudit) -> PasskeySignIn:
    return PasskeySignIn(store, audit, FixedClock(datetime(2026, 11, 30, 15, 0, tzinfo=UTC)))


@pytest.fixture
def phone(store: MemoryPasskeyStore) -> SoftAuthenticator:
    """A phone with a passkey the clinician enrolled from the inbox."""
    device = SoftAuthenticator(origin=RP.origin, rp_id=RP.id)
    enrolment = PasskeyService(
        store, RecordingAudit(), FixedClock(datetime.now(UTC)), RecordingLocks()
    )
    enrolment.register(
        CLINICIAN, RP, device.create(enrolment.registration_options(CLINICIAN, RP)), "Phone"
    )
    return device


def _answer(device: SoftAuthenticator) -> tuple[dict[str, str], str]:
    """Cognito's private parameters and the page's answer to a fresh challenge."""
    public, private = flow.challenge()
    options = json.loads(public[flow.OPTIONS_PARAMETER])
    return private, json.dumps(device.get(options))


# --- define ---------------------------------------------------------------------------------
def test_a_new_sign_in_gets_our_challenge() -> None:
    assert flow.decide([]) == flow.Decision(challenge_name=flow.CUSTOM_CHALLENGE)


def test_an_accepted_passkey_answer_gets_tokens() -> None:
    assert flow.decide([OURS]) == flow.Decision(issue_tokens=True)


@pytest.mark.parametrize(
    "session",
    [
        [replace(OURS, result=False)],
        [replace(OURS, metadata="")],  # a custom challenge that is not this flow's
        [Attempt("SRP_A", True), Attempt("PASSWORD_VERIFIER", True)],  # a password, no TOTP
        [Attempt("PASSWORD_VERIFIER", True), OURS],
        [replace(OURS, result=False), OURS],  # a second try in one session
    ],
    ids=["refused", "not-ours", "password-only", "password-then-passkey", "second-try"],
)
def test_anything_but_one_accepted_passkey_answer_fails(session: list[Attempt]) -> None:
    assert flow.decide(session) == flow.Decision(fail=True)


# --- create ---------------------------------------------------------------------------------
def test_the_options_require_user_verification_and_name_no_credential_or_host() -> None:
    public, private = flow.challenge()

    options = json.loads(public[flow.OPTIONS_PARAMETER])
    assert options["userVerification"] == "required"
    assert options.get("allowCredentials", []) == []
    assert "rpId" not in options  # the browser uses the inbox's own host
    assert options["challenge"] == private[flow.CHALLENGE_PARAMETER]
    assert flow.challenge()[1] != private  # fresh each time


# --- verify ---------------------------------------------------------------------------------
def test_the_enrolled_passkey_signs_in_and_is_audited(
    sign_in: PasskeySignIn,
    phone: SoftAuthenticator,
    store: MemoryPasskeyStore,
    audit: RecordingAudit,
) -> None:
    private, answer = _answer(phone)

    assert sign_in.verify(MEMBER, private, answer, request_id="req-1") is True

    (used,) = store.passkeys(MEMBER.tenant_id, MEMBER.user_id)
    assert used.sign_count == phone.sign_count and used.last_used_at
    (event,) = audit.events
    assert (event.action, event.outcome, event.actor, event.tenant_id, event.request_id) == (
        "passkey.sign_in",
        Outcome.SUCCESS,
        CLINICIAN.user_id,
        CLINICIAN.tenant_id,
        "req-1",
    )


def test_a_passkey_without_user_verification_is_refused(
    sign_in: PasskeySignIn, phone: SoftAuthenticator, audit: RecordingAudit
) -> None:
    phone.user_verified = False  # a tap, no Face ID, fingerprint or device PIN
    private, answer = _answer(phone)

    assert sign_in.verify(MEMBER, private, answer) is False
    assert [(e.action, e.outcome) for e in audit.events] == [("passkey.sign_in", Outcome.INVALID)]


def test_an_answer_made_on_another_site_is_refused(
    sign_in: PasskeySignIn, phone: SoftAuthenticator
) -> None:
    phone.origin = "https://inbox.example.org.evil.example"  # a look-alike page relaying
    private, answer = _answer(phone)

    assert sign_in.verify(MEMBER, private, answer) is False


def test_an_old_answer_does_not_meet_a_new_challenge(
    sign_in: PasskeySignIn, phone: SoftAuthenticator
) -> None:
    _, replayed = _answer(phone)
    fresh, _ = _answer(phone)

    assert sign_in.verify(MEMBER, fresh, replayed) is False


def test_a_colleagues_passkey_does_not_sign_in_as_this_user(
    sign_in: PasskeySignIn, phone: SoftAuthenticator
) -> None:
    private, answer = _answer(phone)

    assert (
        sign_in.verify(StaffMember(COLLEAGUE.tenant_id, COLLEAGUE.user_id), private, answer)
        is False
    )


def test_a_passkey_enrolled_before_sign_in_existed_only_unlocks(
    sign_in: PasskeySignIn, phone: SoftAuthenticator, store: MemoryPasskeyStore
) -> None:
    (old,) = store.passkeys(MEMBER.tenant_id, MEMBER.user_id)
    store.put_passkey(MEMBER.tenant_id, MEMBER.user_id, replace(old, rp_id="", origin=""))
    private, answer = _answer(phone)

    assert sign_in.verify(MEMBER, private, answer) is False


@pytest.mark.parametrize("answer", ["", "not json", "[1]", json.dumps({"id": "x" * 20_000})])
def test_a_malformed_answer_is_refused(
    sign_in: PasskeySignIn, phone: SoftAuthenticator, answer: str
) -> None:
    private, _ = _answer(phone)

    assert sign_in.verify(MEMBER, private, answer) is False


def test_an_unknown_address_is_refused_without_an_audit_event(
    sign_in: PasskeySignIn, phone: SoftAuthenticator, audit: RecordingAudit
) -> None:
    private, answer = _answer(phone)
    member = StaffMember.from_attributes({"sub": "x", "custom:tenant_id": "t"}, user_not_found=True)

    assert sign_in.verify(member, private, answer) is False
    assert audit.events == []


def test_a_user_without_a_tenant_is_nobody() -> None:
    assert StaffMember.from_attributes({"sub": "user-1"}, user_not_found=False) is None


# --- the Lambda entry (Cognito's event shapes) ----------------------------------------------
def _event(source: str, **request: Any) -> dict[str, Any]:
    return {
        "version": "1",
        "triggerSource": source,
        "userName": "u",
        "request": request,
        "response": {},
    }


def test_the_three_triggers_carry_a_sign_in_from_challenge_to_tokens(
    sign_in: PasskeySignIn, phone: SoftAuthenticator
) -> None:
    runtime: Any = SimpleNamespace(passkey_sign_in=lambda: sign_in)
    context = SimpleNamespace(aws_request_id="req-9")
    attributes = {"sub": CLINICIAN.user_id, "custom:tenant_id": CLINICIAN.tenant_id}

    first = triggers.handle(
        _event(triggers.DEFINE, session=[], userAttributes=attributes), context, runtime
    )
    created = triggers.handle(
        _event(triggers.CREATE, challengeName=first["response"]["challengeName"], session=[]),
        context,
        runtime,
    )["response"]
    options = json.loads(created["publicChallengeParameters"][flow.OPTIONS_PARAMETER])
    verified = triggers.handle(
        _event(
            triggers.VERIFY,
            userAttributes=attributes,
            privateChallengeParameters=created["privateChallengeParameters"],
            challengeAnswer=json.dumps(phone.get(options)),
        ),
        context,
        runtime,
    )["response"]
    session = [
        {
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": verified["answerCorrect"],
            "challengeMetadata": created["challengeMetadata"],
        }
    ]
    last = triggers.handle(_event(triggers.DEFINE, session=session), context, runtime)["response"]

    assert first["response"] == {
        "challengeName": "CUSTOM_CHALLENGE",
        "issueTokens": False,
        "failAuthentication": False,
    }
    assert last == {"issueTokens": True, "failAuthentication": False}


def test_a_trigger_it_was_not_built_for_refuses(sign_in: PasskeySignIn) -> None:
    runtime: Any = SimpleNamespace(passkey_sign_in=lambda: sign_in)

    with pytest.raises(ValueError, match="not a custom-authentication trigger"):
        triggers.handle(_event("PreSignUp_SignUp"), None, runtime)


def test_enrolment_keeps_the_relying_party_sign_in_checks_against(
    store: MemoryPasskeyStore, phone: SoftAuthenticator
) -> None:
    (enrolled,) = store.passkeys(MEMBER.tenant_id, MEMBER.user_id)

    assert RelyingParty(id=enrolled.rp_id, origin=enrolled.origin) == RP
