"""The inbox's session routes: a reload resumes the sign-in from an HttpOnly cookie, and
only while Cognito and the server-side session (idle logoff, sign-out) both allow it."""

from __future__ import annotations

import pytest

from functions.handlers.api.browser_session import COOKIE_NAME
from functions.logic.browser_session import id_token_claims
from local.identity import LocalPool, sign_in
from tests.integration.api_harness import ApiResponse, Caller, call
from tests.integration.conftest import StaffApi, build_staff_api

pytestmark = pytest.mark.integration

HOST = "127.0.0.1:8765"
SAME_ORIGIN = {"Host": HOST, "Origin": f"http://{HOST}"}


def _refresh_token(staff_api: StaffApi, pool: LocalPool, role: str = "clinician") -> str:
    user = next(u for u in pool.users if u.tenant_id == "harbor" and u.role == role)
    cognito = staff_api.runtime.clients.client("cognito-idp")
    return sign_in(cognito, pool.client_id, user)["RefreshToken"]


def _start(staff_api: StaffApi, refresh_token: str, **headers: str) -> ApiResponse:
    return call(
        staff_api.anonymous,
        "POST",
        "/session",
        body={"refresh_token": refresh_token},
        headers=SAME_ORIGIN | headers,
    )


def _refresh(caller: Caller, cookie: str | None, **headers: str) -> ApiResponse:
    cookies = {"Cookie": f"other=1; {COOKIE_NAME}={cookie}"} if cookie is not None else {}
    return call(caller, "POST", "/session/refresh", headers=SAME_ORIGIN | cookies | headers)


def _attributes(set_cookie: str) -> set[str]:
    return {part.strip() for part in set_cookie.split(";")[1:]}


@pytest.fixture
def staff_api(staff_api: StaffApi, staff_pool: LocalPool) -> StaffApi:
    """The API with the inbox's app client, as deployed and in local mode."""
    return build_staff_api(
        staff_api.messaging, staff_pool, user_pool_client_id=staff_pool.client_id
    )


def test_handing_over_the_refresh_token_sets_a_cookie_no_script_can_read(
    staff_api: StaffApi, staff_pool: LocalPool
) -> None:
    # Given a fresh sign-in's refresh token
    token = _refresh_token(staff_api, staff_pool)
    # When the page hands it to the session route
    answer = _start(staff_api, token)
    # Then it gets the clinician's ID token and the token goes into a locked-down cookie
    assert answer.status == 200, answer.text
    claims = id_token_claims(answer.json["id_token"])
    assert claims["sub"] == staff_api.clinician.user_id and claims["token_use"] == "id"
    assert answer.json["expires_at"] == claims["exp"]
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={token};")
    assert {"HttpOnly", "Secure", "SameSite=Strict", "Path=/session"} <= _attributes(cookie)
    assert token not in answer.text  # the body carries the ID token only


def test_a_reload_resumes_the_same_sign_in_from_the_cookie(
    staff_api: StaffApi, staff_pool: LocalPool
) -> None:
    token = _refresh_token(staff_api, staff_pool)
    first = id_token_claims(_start(staff_api, token).json["id_token"])
    # When the reloaded page asks with the cookie alone
    answer = _refresh(staff_api.anonymous, token)
    # Then it is the same sign-in (the server's session id), and the cookie is renewed
    assert answer.status == 200, answer.text
    again = id_token_claims(answer.json["id_token"])
    assert again["origin_jti"] == first["origin_jti"]
    assert answer.headers["Set-Cookie"].startswith(f"{COOKIE_NAME}={token};")


def test_an_idle_session_is_not_revived_by_a_reload(
    staff_api: StaffApi, staff_pool: LocalPool
) -> None:
    token = _refresh_token(staff_api, staff_pool)
    assert _start(staff_api, token).status == 200
    # Given more than the idle timeout without a request
    staff_api.messaging.clock.advance(minutes=15, seconds=1)
    # When the page reloads
    answer = _refresh(staff_api.anonymous, token)
    # Then the server refuses, and tells the browser to drop the cookie
    assert answer.status == 401 and answer.json == {"error": "sign in again"}
    assert "Max-Age=0" in _attributes(answer.headers["Set-Cookie"])
    assert token not in answer.headers["Set-Cookie"]


def test_sign_out_everywhere_ends_the_cookie_too(
    staff_api: StaffApi, staff_pool: LocalPool
) -> None:
    token = _refresh_token(staff_api, staff_pool)
    assert _start(staff_api, token).status == 200
    # Given an admin signs the clinician out everywhere (a lost phone)
    signed_out = call(
        staff_api.admin,
        "POST",
        "/users/{user_id}/sign-out",
        path_params={"user_id": staff_api.clinician.user_id},
    )
    assert signed_out.status == 204
    # When the phone's page reloads, the refresh credential is dead
    assert _refresh(staff_api.anonymous, token).status == 401


def test_a_disabled_user_cannot_resume(staff_api: StaffApi, staff_pool: LocalPool) -> None:
    token = _refresh_token(staff_api, staff_pool)
    cognito = staff_api.runtime.clients.client("cognito-idp")
    user = next(u for u in staff_pool.users if u.tenant_id == "harbor" and u.role == "clinician")
    cognito.admin_disable_user(UserPoolId=staff_pool.user_pool_id, Username=user.email)
    assert _start(staff_api, token).status == 401


def test_no_cookie_or_a_forged_one_is_refused(staff_api: StaffApi) -> None:
    assert _refresh(staff_api.anonymous, None).json == {"error": "unauthorized"}
    assert _refresh(staff_api.anonymous, None).status == 401
    assert _refresh(staff_api.anonymous, "not-a-refresh-token").status == 401


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://127.0.0.1:9999", "null", ""], ids=repr
)
def test_another_origin_cannot_use_the_session_routes(
    staff_api: StaffApi, staff_pool: LocalPool, origin: str
) -> None:
    token = _refresh_token(staff_api, staff_pool)
    assert _start(staff_api, token, Origin=origin).status == 403
    assert _refresh(staff_api.anonymous, token, Origin=origin).status == 403


def test_the_configured_inbox_origin_is_the_only_one_allowed(
    staff_api: StaffApi, staff_pool: LocalPool
) -> None:
    inbox = "https://inbox.example.org"
    deployed = build_staff_api(
        staff_api.messaging,
        staff_pool,
        user_pool_client_id=staff_pool.client_id,
        inbox_origin=inbox,
    )
    token = _refresh_token(deployed, staff_pool)
    assert _start(deployed, token).status == 403  # its own host is not the inbox
    assert _start(deployed, token, Origin=inbox).status == 200


def test_ending_the_session_clears_the_cookie(staff_api: StaffApi) -> None:
    answer = call(staff_api.anonymous, "DELETE", "/session", headers=SAME_ORIGIN)
    assert answer.status == 204
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=;") and "Max-Age=0" in _attributes(cookie)
