"""Automatic logoff and sign-out-everywhere, enforced by the server; bad input answered safely."""

from __future__ import annotations

import dataclasses
import json

import pytest

from local.identity import LocalPool
from tests.integration.api_harness import Caller, call, claims_for
from tests.integration.conftest import Messaging, StaffApi, build_staff_api
from tests.phi_samples import BODY, CLIENT_PHONE

pytestmark = pytest.mark.integration


def _resigned(caller: Caller, *, auth_time: int, session: str) -> Caller:
    """The same user after signing in again: a new sign-in time and session id."""
    assert caller.claims is not None
    claims = claims_for(
        caller.user_id,
        caller.tenant_id,
        caller.claims["custom:role"],
        auth_time=auth_time,
        session=session,
    )
    return dataclasses.replace(caller, claims=claims)


def test_an_idle_session_is_refused_until_the_user_signs_in_again(staff_api: StaffApi) -> None:
    clock = staff_api.messaging.clock
    assert call(staff_api.clinician, "GET", "/me").status == 200
    clock.advance(minutes=14)
    assert call(staff_api.clinician, "GET", "/me").status == 200  # activity keeps it alive
    clock.advance(minutes=15, seconds=1)
    refused = call(staff_api.clinician, "GET", "/me")
    assert refused.status == 401 and refused.json == {"error": "sign in again"}
    clock.advance(minutes=1)  # still refused: idling out is final for that session
    assert call(staff_api.clinician, "GET", "/me").status == 401
    fresh = _resigned(staff_api.clinician, auth_time=int(clock.now().timestamp()), session="new")
    assert call(fresh, "GET", "/me").status == 200


def test_sign_out_everywhere_kills_tokens_issued_before_it(staff_api: StaffApi) -> None:
    clock = staff_api.messaging.clock
    assert call(staff_api.clinician, "GET", "/me").status == 200
    clock.advance(seconds=5)
    assert (
        call(
            staff_api.admin,
            "POST",
            "/users/{user_id}/sign-out",
            path_params={"user_id": staff_api.clinician.user_id},
        ).status
        == 204
    )
    assert call(staff_api.clinician, "GET", "/me").status == 401
    # A token from before the sign-out that was never used yet is refused too.
    unused = _resigned(
        staff_api.clinician, auth_time=int(clock.now().timestamp()) - 3, session="unused"
    )
    assert call(unused, "GET", "/me").status == 401
    clock.advance(seconds=5)
    later = _resigned(staff_api.clinician, auth_time=int(clock.now().timestamp()), session="later")
    assert call(later, "GET", "/me").status == 200


def test_disabling_a_user_ends_their_sessions_at_once(staff_api: StaffApi) -> None:
    assert call(staff_api.other_clinician, "GET", "/me").status == 200
    staff_api.messaging.clock.advance(seconds=2)
    assert (
        call(
            staff_api.admin,
            "POST",
            "/users/{user_id}/disable",
            path_params={"user_id": staff_api.other_clinician.user_id},
        ).status
        == 204
    )
    assert call(staff_api.other_clinician, "GET", "/me").status == 401


@pytest.mark.parametrize("cut_off_by", [["sign-out"], ["disable", "enable"]])
def test_a_sign_in_right_after_sign_out_everywhere_or_re_enable_works(
    staff_api: StaffApi, cut_off_by: list[str]
) -> None:
    # Given a clinician in use, cut off by an admin 0.3 s into a second (and re-enabled)
    clock = staff_api.messaging.clock
    assert call(staff_api.clinician, "GET", "/me").status == 200
    clock.advance(seconds=5, milliseconds=300)
    for step in cut_off_by:
        answer = call(
            staff_api.admin,
            "POST",
            "/users/{user_id}/" + step,
            path_params={"user_id": staff_api.clinician.user_id},
        )
        assert answer.status == 204

    # When they sign in again within the same second
    clock.advance(milliseconds=400)
    again = _resigned(staff_api.clinician, auth_time=int(clock.now().timestamp()), session="again")

    # Then the new session works, and the one from before the cut-off stays refused
    assert call(again, "GET", "/me").status == 200
    assert call(staff_api.clinician, "GET", "/me").status == 401


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {
            "sub": "u",
            "token_use": "access",
            "custom:tenant_id": "harbor",
            "custom:role": "admin",
            "auth_time": "1",
        },
        {"sub": "u", "token_use": "id", "custom:role": "admin", "auth_time": "1"},
        {
            "sub": "u",
            "token_use": "id",
            "custom:tenant_id": "harbor",
            "custom:role": "owner",
            "auth_time": "1",
        },
        {"sub": "u", "token_use": "id", "custom:tenant_id": "harbor", "custom:role": "admin"},
    ],
    ids=["no-claims", "access-token", "no-tenant", "unknown-role", "no-auth-time"],
)
def test_claims_that_are_not_a_staff_id_token_get_401(
    staff_api: StaffApi, claims: dict[str, str]
) -> None:
    odd = Caller("odd", claims, api=staff_api.admin.api)
    assert call(odd, "GET", "/conversations").status == 401


def test_a_page_size_over_the_maximum_is_clamped(staff_api: StaffApi) -> None:
    response = call(staff_api.admin, "GET", "/conversations", query={"limit": "100000"})
    assert response.status == 200


@pytest.mark.parametrize(
    ("method", "path", "body", "query"),
    [
        ("POST", "/contacts", {"phone_number": CLIENT_PHONE, "display_name": BODY}, None),
        (
            "POST",
            "/contacts",
            {"phone_number": BODY, "consent": {"mode": "plain_sms", "wording_version": "v1"}},
            None,
        ),
        ("POST", "/contacts", {BODY: CLIENT_PHONE}, None),
        ("POST", "/templates", {"name": BODY, "body": ""}, None),
        ("GET", "/conversations", None, {"cursor": CLIENT_PHONE}),
        ("GET", "/conversations", None, {"limit": BODY}),
    ],
)
def test_invalid_input_gets_field_errors_without_echoing_phi(
    staff_api: StaffApi, method: str, path: str, body: object, query: dict[str, str] | None
) -> None:
    response = call(staff_api.admin, method, path, body=body, query=query)
    assert response.status in (400, 422)
    assert BODY not in response.text and CLIENT_PHONE not in response.text
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_a_non_json_body_is_rejected_without_echo(staff_api: StaffApi) -> None:
    response = call(staff_api.admin, "POST", "/templates", raw_body=f"name={BODY}")
    assert response.status == 422 and BODY not in response.text


def test_unknown_routes_are_404_and_responses_are_never_cached(staff_api: StaffApi) -> None:
    unknown = call(staff_api.admin, "GET", "/nowhere")
    assert unknown.status == 404
    for response in (unknown, call(staff_api.admin, "GET", "/me")):
        assert response.headers.get("Cache-Control") == "no-store"


def test_the_openapi_document_is_public_and_lists_the_security_scheme(staff_api: StaffApi) -> None:
    document = call(staff_api.anonymous, "GET", "/openapi.json")
    assert document.status == 200
    schema = document.json
    assert schema["openapi"].startswith("3.")
    assert schema["paths"]["/conversations"]["get"]["security"] == [{"cognito": []}]
    assert "security" not in schema["paths"]["/openapi.json"]["get"]
    assert json.dumps(schema).count("x-quietline-audit") == sum(
        len(v) for v in schema["paths"].values()
    )


def test_unusual_read_volume_raises_the_alarm_metric_once_per_window(
    messaging: Messaging, staff_pool: LocalPool
) -> None:
    staff_api = build_staff_api(messaging, staff_pool, unusual_reads_per_15_minutes=3)
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    staff_api.audit.clear()
    thread = {"conversation_id": contact}
    for _ in range(6):
        assert (
            call(
                staff_api.clinician,
                "GET",
                "/conversations/{conversation_id}/messages",
                path_params=thread,
            ).status
            == 200
        )
    metrics = staff_api.messaging.metrics.counts
    assert metrics["UnusualReadVolume"] == 1
    warnings = [e for e in staff_api.audit.events if e.action == "breach.unusual_read_volume"]
    assert len(warnings) == 1 and warnings[0].actor == staff_api.clinician.user_id
    staff_api.messaging.clock.advance(minutes=16)  # a new window starts counting afresh
    for _ in range(3):
        call(
            staff_api.clinician,
            "GET",
            "/conversations/{conversation_id}/messages",
            path_params=thread,
        )
    assert metrics["UnusualReadVolume"] == 1


def test_only_the_configured_inbox_origin_may_read_responses(
    messaging: Messaging, staff_pool: LocalPool
) -> None:
    same_origin = build_staff_api(messaging, staff_pool)
    assert "Access-Control-Allow-Origin" not in call(same_origin.admin, "GET", "/me").headers
    staff_api = build_staff_api(messaging, staff_pool, inbox_origin="https://inbox.harbor.example")
    headers = call(staff_api.admin, "GET", "/me").headers
    assert headers["Access-Control-Allow-Origin"] == "https://inbox.harbor.example"
    assert headers["Vary"] == "Origin"
    # Refusals too: the inbox must tell "not found" or "invalid" from a network failure.
    missing = call(
        staff_api.admin,
        "GET",
        "/conversations/{conversation_id}",
        path_params={"conversation_id": "nope"},
    )
    invalid = call(staff_api.admin, "POST", "/templates", body={"bad": 1})
    assert (missing.status, invalid.status) == (404, 422)
    for refused in (missing, invalid):
        assert refused.headers["Access-Control-Allow-Origin"] == "https://inbox.harbor.example"
        assert refused.headers["Cache-Control"] == "no-store"


def test_secure_link_sends_are_refused_clearly_when_no_inbox_is_deployed(
    staff_api: StaffApi,
) -> None:
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE, mode="secure_link")
    refused = call(
        staff_api.admin,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
        body={"body": BODY, "mode": "secure_link"},
    )
    assert refused.status == 422
    assert refused.json["errors"] == [
        {"field": "mode", "problem": "secure links are not configured"}
    ]
