"""Passkey sign-in through the user pool's custom-authentication flow on moto: Cognito's
flow as local/moto_cognito.py emulates it, the deployed trigger handler on the API's
services, a passkey enrolled through the staff API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from botocore.exceptions import ClientError

from functions.logic.access import principal_from_claims
from functions.logic.audit import Outcome
from functions.logic.passkey_sign_in import OPTIONS_PARAMETER
from local import moto_cognito
from local.identity import DemoUser, LocalPool, passkey_trigger
from tests.integration.api_harness import call
from tests.integration.conftest import StaffApi
from tests.webauthn_fakes import SoftAuthenticator

pytestmark = pytest.mark.integration

INBOX = {"Host": "inbox.test", "Origin": "http://inbox.test"}


@pytest.fixture
def pool(staff_api: StaffApi, staff_pool: LocalPool) -> Iterator[LocalPool]:
    moto_cognito.use_custom_auth(staff_pool.user_pool_id, passkey_trigger(staff_api.runtime))
    yield staff_pool
    moto_cognito.forget_custom_auth(staff_pool.user_pool_id)


@pytest.fixture
def cognito(staff_api: StaffApi) -> Any:
    return staff_api.runtime.clients.client("cognito-idp")


@pytest.fixture
def clinician(pool: LocalPool) -> DemoUser:
    return next(u for u in pool.users if u.role == "clinician" and u.tenant_id == "harbor")


@pytest.fixture
def phone(staff_api: StaffApi) -> SoftAuthenticator:
    """The clinician's phone, with a passkey enrolled from the inbox."""
    device = SoftAuthenticator(origin="http://inbox.test", rp_id="inbox.test")
    options = call(staff_api.clinician, "POST", "/me/passkeys/options", headers=INBOX)
    enrolled = call(
        staff_api.clinician,
        "POST",
        "/me/passkeys",
        body={"credential": device.create(options.json)},
        headers=INBOX,
    )
    assert enrolled.status == 201, enrolled.text
    return device


def _start(cognito: Any, pool: LocalPool, email: str) -> dict[str, Any]:
    answer: dict[str, Any] = cognito.initiate_auth(
        ClientId=pool.client_id, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": email}
    )
    return answer


def _answer(
    cognito: Any, pool: LocalPool, email: str, started: dict[str, Any], device: SoftAuthenticator
) -> dict[str, Any]:
    options = json.loads(started["ChallengeParameters"][OPTIONS_PARAMETER])
    answer: dict[str, Any] = cognito.respond_to_auth_challenge(
        ClientId=pool.client_id,
        ChallengeName="CUSTOM_CHALLENGE",
        Session=started["Session"],
        ChallengeResponses={"USERNAME": email, "ANSWER": json.dumps(device.get(options))},
    )
    return answer


def _refused(error: pytest.ExceptionInfo[ClientError]) -> bool:
    return error.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_a_passkey_signs_in_without_password_or_code(
    staff_api: StaffApi,
    cognito: Any,
    pool: LocalPool,
    clinician: DemoUser,
    phone: SoftAuthenticator,
) -> None:
    staff_api.audit.clear()
    started = _start(cognito, pool, clinician.email)

    tokens = _answer(cognito, pool, clinician.email, started, phone)["AuthenticationResult"]

    principal = principal_from_claims(
        jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    )
    assert (principal.tenant_id, principal.role.value) == ("harbor", "clinician")
    assert principal.user_id == staff_api.clinician.user_id
    assert tokens["RefreshToken"]  # the inbox keeps the session across reloads as after a password
    assert [(e.action, e.outcome) for e in staff_api.audit.events] == [
        ("passkey.sign_in", Outcome.SUCCESS)
    ]


def test_a_passkey_that_was_never_enrolled_is_refused_and_audited(
    staff_api: StaffApi,
    cognito: Any,
    pool: LocalPool,
    clinician: DemoUser,
    phone: SoftAuthenticator,
) -> None:
    staff_api.audit.clear()
    stranger = SoftAuthenticator(origin="http://inbox.test", rp_id="inbox.test")
    started = _start(cognito, pool, clinician.email)

    with pytest.raises(ClientError) as error:
        _answer(cognito, pool, clinician.email, started, stranger)

    assert _refused(error)
    assert [(e.action, e.outcome) for e in staff_api.audit.events] == [
        ("passkey.sign_in", Outcome.INVALID)
    ]


def test_an_answered_session_cannot_be_answered_again(
    cognito: Any, pool: LocalPool, clinician: DemoUser, phone: SoftAuthenticator
) -> None:
    started = _start(cognito, pool, clinician.email)
    _answer(cognito, pool, clinician.email, started, phone)

    with pytest.raises(ClientError) as error:
        _answer(cognito, pool, clinician.email, started, phone)

    assert _refused(error)


def test_an_unknown_address_gets_the_same_challenge_and_is_refused(
    cognito: Any, pool: LocalPool, clinician: DemoUser, phone: SoftAuthenticator
) -> None:
    known = _start(cognito, pool, clinician.email)
    unknown = _start(cognito, pool, "nobody@harbor-counseling.example")

    assert set(unknown["ChallengeParameters"]) == set(known["ChallengeParameters"])
    assert (
        json.loads(unknown["ChallengeParameters"][OPTIONS_PARAMETER]).keys()
        == json.loads(known["ChallengeParameters"][OPTIONS_PARAMETER]).keys()
    )
    with pytest.raises(ClientError) as error:
        _answer(cognito, pool, "nobody@harbor-counseling.example", unknown, phone)
    assert _refused(error)


def test_a_disabled_user_cannot_start_a_passkey_sign_in(
    cognito: Any, pool: LocalPool, clinician: DemoUser, phone: SoftAuthenticator
) -> None:
    cognito.admin_disable_user(UserPoolId=pool.user_pool_id, Username=clinician.email)

    with pytest.raises(ClientError) as error:
        _start(cognito, pool, clinician.email)

    assert _refused(error)


def test_revoked_passkeys_no_longer_sign_in(
    staff_api: StaffApi,
    cognito: Any,
    pool: LocalPool,
    clinician: DemoUser,
    phone: SoftAuthenticator,
) -> None:
    user_id = staff_api.clinician.user_id
    revoked = call(
        staff_api.admin, "DELETE", "/users/{user_id}/passkeys", path_params={"user_id": user_id}
    )
    assert revoked.status in (200, 204), revoked.text
    started = _start(cognito, pool, clinician.email)

    with pytest.raises(ClientError) as error:
        _answer(cognito, pool, clinician.email, started, phone)

    assert _refused(error)


def test_a_client_without_the_custom_flow_cannot_use_it(
    cognito: Any, pool: LocalPool, clinician: DemoUser
) -> None:
    cognito.update_user_pool_client(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )

    with pytest.raises(ClientError) as error:
        _start(cognito, pool, clinician.email)

    assert error.value.response["Error"]["Code"] == "InvalidParameterException"


def test_an_unanswered_session_expires(
    cognito: Any,
    pool: LocalPool,
    clinician: DemoUser,
    phone: SoftAuthenticator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = _start(cognito, pool, clinician.email)
    monkeypatch.setattr(moto_cognito, "SESSION_SECONDS", -1)  # Cognito's 3 minutes, passed

    with pytest.raises(ClientError) as error:
        _answer(cognito, pool, clinician.email, started, phone)

    assert _refused(error)


def test_a_failing_trigger_refuses_the_sign_in_without_detail(
    cognito: Any, pool: LocalPool, clinician: DemoUser
) -> None:
    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("the passkey table is unavailable")

    moto_cognito.use_custom_auth(pool.user_pool_id, broken)

    with pytest.raises(ClientError) as error:
        _start(cognito, pool, clinician.email)

    assert error.value.response["Error"]["Code"] == "UnexpectedLambdaException"
    assert "unavailable" not in str(error.value)
