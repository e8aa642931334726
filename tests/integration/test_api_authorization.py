"""Every route in the generated OpenAPI document, called as every kind of caller.

A route added without an entry in EXPECTED fails `test_every_route_has_a_decision`, so no
route can ship without its authorization decided and tested.
"""

from __future__ import annotations

import base64
import io
import wave
from collections.abc import Callable
from typing import Any

import pytest

from functions.core.voice import IncomingCall, VoicemailRecording
from functions.handlers.api import ROUTES, openapi_schema
from functions.logic.audit import Outcome
from tests.integration.api_harness import Caller, call
from tests.integration.conftest import StaffApi
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration


def _silent_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * 800)
    return buffer.getvalue()


_SILENT_WAV = _silent_wav()

OK = "ok"
# For each route: the success status, and what a clinician of the same tenant gets.
EXPECTED: dict[tuple[str, str], tuple[int, int | str]] = {
    ("GET", "/openapi.json"): (200, OK),
    ("GET", "/me"): (200, OK),
    ("POST", "/me/sign-out"): (204, OK),
    ("GET", "/conversations"): (200, OK),
    ("GET", "/conversations/{conversation_id}"): (200, OK),
    ("GET", "/conversations/{conversation_id}/messages"): (200, OK),
    ("POST", "/conversations/{conversation_id}/messages"): (202, OK),
    ("POST", "/conversations/{conversation_id}/read"): (204, OK),
    ("PUT", "/conversations/{conversation_id}/assignment"): (204, OK),
    ("POST", "/contacts"): (201, OK),
    ("GET", "/contacts/{contact_id}"): (200, OK),
    ("PATCH", "/contacts/{contact_id}"): (200, OK),
    ("DELETE", "/contacts/{contact_id}"): (200, 403),
    ("GET", "/templates"): (200, OK),
    ("POST", "/templates"): (201, 403),
    ("GET", "/templates/{template_id}"): (200, OK),
    ("PUT", "/templates/{template_id}"): (200, 403),
    ("DELETE", "/templates/{template_id}"): (204, 403),
    ("GET", "/settings"): (200, OK),
    ("PUT", "/settings"): (200, 403),
    ("GET", "/users"): (200, 403),
    ("GET", "/audit/events"): (200, 403),
    ("POST", "/users"): (201, 403),
    ("POST", "/users/{user_id}/disable"): (204, 403),
    ("POST", "/users/{user_id}/enable"): (204, 403),
    ("POST", "/users/{user_id}/sign-out"): (204, 403),
    ("GET", "/conversations/{conversation_id}/calls"): (200, OK),
    ("POST", "/conversations/{conversation_id}/calls"): (202, OK),
    ("GET", "/conversations/{conversation_id}/calls/{call_id}/voicemail"): (200, OK),
    ("GET", "/conversations/{conversation_id}/calls/{call_id}/transcript"): (200, OK),
    ("GET", "/voice-settings"): (200, 403),
    ("PUT", "/voice-settings"): (200, 403),
    ("PUT", "/voice-settings/greeting"): (200, 403),
    ("DELETE", "/voice-settings/greeting"): (204, 403),
    ("PUT", "/me/forwarding-number"): (200, OK),
    ("DELETE", "/me/forwarding-number"): (204, OK),
    ("GET", "/care-settings"): (200, OK),
    ("PUT", "/care-settings"): (200, 403),
    ("GET", "/urgent-conversations"): (200, OK),
    ("DELETE", "/conversations/{conversation_id}/urgent"): (204, OK),
    # Live updates and Web Push are not configured in this harness: 404 for anyone signed in.
    ("POST", "/live/tickets"): (404, OK),
    ("GET", "/push/key"): (404, OK),
    ("POST", "/push/subscriptions"): (204, OK),
    ("POST", "/push/subscriptions/remove"): (204, OK),
    ("GET", "/conversations/{conversation_id}/schedules"): (200, OK),
    ("POST", "/conversations/{conversation_id}/schedules"): (201, OK),
    ("DELETE", "/conversations/{conversation_id}/schedules/{schedule_id}"): (204, OK),
    ("GET", "/appointments"): (200, OK),
    ("POST", "/conversations/{conversation_id}/appointments"): (201, OK),
    ("DELETE", "/appointments/{appointment_id}"): (204, OK),
    ("POST", "/appointments/import"): (200, 403),
    ("GET", "/scheduling-settings"): (200, OK),
    ("PUT", "/scheduling-settings"): (200, 403),
    ("GET", "/me/lock"): (200, OK),
    ("POST", "/me/lock"): (204, OK),
    ("PUT", "/me/pin"): (204, OK),
    ("POST", "/me/unlock"): (409, OK),  # no PIN set yet (test_app_lock_api.py unlocks)
    ("PUT", "/lock-settings"): (200, 403),
    ("POST", "/me/passkeys/options"): (200, OK),
    # Without a real authenticator's answer these refuse; test_passkeys_api.py enrols one.
    ("POST", "/me/passkeys"): (422, OK),
    ("GET", "/me/passkeys"): (200, OK),
    ("DELETE", "/me/passkeys/{credential_id}"): (404, OK),
    ("POST", "/me/unlock/options"): (404, OK),  # nothing enrolled to unlock with
    ("POST", "/me/unlock/passkey"): (422, OK),
    ("DELETE", "/users/{user_id}/passkeys"): (200, 403),
}

# The one route anyone may call, signed in or not.
PUBLIC = {("GET", "/openapi.json")}
# Public at the gateway but authenticated by the inbox's HttpOnly refresh cookie and its
# Origin, not by an ID token: their decisions are tested in test_browser_session.py.
COOKIE_ROUTES = {("POST", "/session"), ("POST", "/session/refresh"), ("DELETE", "/session")}
# What a session behind the app lock may still call (none of it shows PHI): unlocking,
# signing out, who am I, the lock state and one's own passkeys (to offer them). Every other
# route answers it 423.
PASSES_LOCK = {
    ("GET", "/me"),
    ("POST", "/me/sign-out"),
    ("GET", "/me/lock"),
    ("POST", "/me/lock"),
    ("POST", "/me/unlock"),
    ("POST", "/me/unlock/options"),
    ("POST", "/me/unlock/passkey"),
    ("GET", "/me/passkeys"),
}
# The audit event each PHI read or change and each admin action records (docs/audit.md).
AUDITED: dict[tuple[str, str], str] = {
    ("POST", "/me/sign-out"): "session.sign_out",
    ("GET", "/conversations"): "conversation.list",
    ("GET", "/conversations/{conversation_id}"): "conversation.read",
    ("GET", "/conversations/{conversation_id}/messages"): "message.read",
    ("POST", "/conversations/{conversation_id}/messages"): "message.send",
    ("POST", "/conversations/{conversation_id}/read"): "conversation.mark_read",
    ("PUT", "/conversations/{conversation_id}/assignment"): "conversation.assign",
    ("POST", "/contacts"): "contact.create",
    ("GET", "/contacts/{contact_id}"): "contact.read",
    ("PATCH", "/contacts/{contact_id}"): "contact.update",
    ("DELETE", "/contacts/{contact_id}"): "contact.delete",
    ("POST", "/templates"): "template.create",
    ("PUT", "/templates/{template_id}"): "template.update",
    ("DELETE", "/templates/{template_id}"): "template.delete",
    ("PUT", "/settings"): "settings.update",
    ("GET", "/users"): "user.list",
    ("POST", "/users"): "user.invite",
    ("POST", "/users/{user_id}/disable"): "user.disable",
    ("POST", "/users/{user_id}/enable"): "user.enable",
    ("POST", "/users/{user_id}/sign-out"): "user.sign_out",
    ("GET", "/audit/events"): "audit.export",
    ("GET", "/conversations/{conversation_id}/calls"): "call.read",
    ("POST", "/conversations/{conversation_id}/calls"): "call.place",
    ("GET", "/conversations/{conversation_id}/calls/{call_id}/voicemail"): "voicemail.played",
    (
        "GET",
        "/conversations/{conversation_id}/calls/{call_id}/transcript",
    ): "voicemail.transcript_read",
    ("PUT", "/voice-settings"): "voice_settings.update",
    ("PUT", "/voice-settings/greeting"): "voice_greeting.update",
    ("DELETE", "/voice-settings/greeting"): "voice_greeting.clear",
    ("PUT", "/me/forwarding-number"): "forwarding_number.set",
    ("DELETE", "/me/forwarding-number"): "forwarding_number.clear",
    ("PUT", "/care-settings"): "care_settings.update",
    ("GET", "/urgent-conversations"): "conversation.list",
    ("DELETE", "/conversations/{conversation_id}/urgent"): "conversation.clear_urgent",
    ("POST", "/push/subscriptions"): "push.subscribe",
    ("POST", "/push/subscriptions/remove"): "push.unsubscribe",
    ("GET", "/conversations/{conversation_id}/schedules"): "schedule.read",
    ("POST", "/conversations/{conversation_id}/schedules"): "schedule.create",
    ("DELETE", "/conversations/{conversation_id}/schedules/{schedule_id}"): "schedule.cancel",
    ("GET", "/appointments"): "appointment.list",
    ("POST", "/conversations/{conversation_id}/appointments"): "appointment.create",
    ("DELETE", "/appointments/{appointment_id}"): "appointment.cancel",
    ("POST", "/appointments/import"): "appointment.import",
    ("PUT", "/scheduling-settings"): "scheduling_settings.update",
    ("PUT", "/me/pin"): "pin.set",
    ("POST", "/me/lock"): "session.lock",
    ("PUT", "/lock-settings"): "lock_settings.update",
    ("DELETE", "/users/{user_id}/passkeys"): "passkey.revoke",
}

SCHEDULE = {"send_at": "2026-12-01T10:00", "body": "See you at 3."}
BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/conversations/{conversation_id}/messages"): {"body": "See you at 3."},
    ("PUT", "/conversations/{conversation_id}/assignment"): {"user_id": None},
    ("POST", "/contacts"): {
        "phone_number": "+13125550177",
        "display_name": "New client",
        "consent": {"mode": "secure_link", "wording_version": "v1"},
    },
    ("PATCH", "/contacts/{contact_id}"): {"display_name": "Renamed"},
    ("POST", "/templates"): {"name": "Reminder", "body": "Reminder: your appointment is tomorrow."},
    ("PUT", "/templates/{template_id}"): {"name": "Reminder", "body": "Updated wording."},
    ("PUT", "/settings"): {"help_reply": "Call the front desk."},
    ("POST", "/users"): {"email": "new.hire@harbor.example", "role": "clinician"},
    ("PUT", "/voice-settings"): {"enabled": True},
    # A 0.1 s 8 kHz 8-bit WAV of silence
    ("PUT", "/voice-settings/greeting"): {
        "content_type": "audio/wav",
        "audio_base64": base64.b64encode(_SILENT_WAV).decode(),
    },
    ("PUT", "/me/forwarding-number"): {"phone_number": "+13125550188"},
    ("PUT", "/care-settings"): {"crisis_reply": "Call 911 or text 988."},
    ("POST", "/push/subscriptions"): {
        "endpoint": "https://push.example/device-1",
        "keys": {"p256dh": "BPushKeyOfTheTestDevice", "auth": "authsecret"},
    },
    ("POST", "/push/subscriptions/remove"): {"endpoint": "https://push.example/device-1"},
    ("POST", "/conversations/{conversation_id}/schedules"): SCHEDULE,
    ("POST", "/conversations/{conversation_id}/appointments"): {"start": "2026-12-03T14:00"},
    ("POST", "/appointments/import"): {"format": "csv", "content": "phone,start\n"},
    ("PUT", "/scheduling-settings"): {
        "timezone": "America/Chicago",
        "quiet_start": "20:00",
        "quiet_end": "09:00",
        "reminder_hours_before": [24],
        "reminder_template": "{practice}: see you {date} at {time}. Reply C to confirm.",
        "confirmed_reply": "Thanks!",
        "reschedule_reply": "We will call you.",
        "cancel_reply": "Noted.",
    },
    ("PUT", "/me/pin"): {"pin": "482915"},
    ("POST", "/me/unlock"): {"pin": "482915"},
    ("PUT", "/lock-settings"): {"lock_after_seconds": 300},
    ("POST", "/me/passkeys"): {"credential": {}, "name": "Phone"},
    ("POST", "/me/unlock/passkey"): {"credential": {}},
}

# Passkey routes check the browser's Origin against the inbox's (here: this host's).
BROWSER = {"Host": "inbox.test", "Origin": "http://inbox.test"}


QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/audit/events"): {"start": "2026-01-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"},
}


def _operations() -> list[tuple[str, str]]:
    schema = openapi_schema()
    return sorted(
        (method.upper(), path) for path, item in schema["paths"].items() for method in item
    )


def test_every_route_has_a_decision() -> None:
    assert set(_operations()) == set(EXPECTED) | COOKIE_ROUTES
    assert {(r.method, r.path) for r in ROUTES} == set(EXPECTED) | COOKIE_ROUTES
    # ... and its audit and public decisions are the ones tested below.
    assert {(r.method, r.path) for r in ROUTES if r.audit} == set(AUDITED)
    assert {(r.method, r.path) for r in ROUTES if r.public} == PUBLIC | COOKIE_ROUTES
    assert {(r.method, r.path) for r in ROUTES if r.while_locked} == PASSES_LOCK


def _path_params(staff: StaffApi, path: str) -> dict[str, str]:
    """Ids of harbor's objects; destructive routes get a fresh object each call."""
    params: dict[str, str] = {}
    if "{conversation_id}" in path or "{contact_id}" in path:
        contact = staff.contact(
            staff.admin, CLIENT_PHONE if "DELETE" not in path else OTHER_CLIENT_PHONE
        )
        params["conversation_id" if "{conversation_id}" in path else "contact_id"] = contact
    if "{schedule_id}" in path:
        created = call(
            staff.admin,
            "POST",
            "/conversations/{conversation_id}/schedules",
            path_params=params,
            body=SCHEDULE,
        )
        params["schedule_id"] = created.json["schedule_id"]
    if "{appointment_id}" in path:
        contact = staff.contact(staff.admin, CLIENT_PHONE)
        created = call(
            staff.admin,
            "POST",
            "/conversations/{conversation_id}/appointments",
            path_params={"conversation_id": contact},
            body={"start": "2026-12-03T14:00"},
        )
        params["appointment_id"] = created.json["appointment_id"]
    if "{template_id}" in path:
        created = call(staff.admin, "POST", "/templates", body=BODIES[("POST", "/templates")])
        params["template_id"] = created.json["template_id"]
    if "{user_id}" in path:
        params["user_id"] = staff.other_clinician.user_id
    if "/calls" in path:
        params["call_id"] = _voice_ready(staff, params["conversation_id"])
    return params


def _voice_ready(staff: StaffApi, conversation_id: str) -> str:
    """Voice on, every harbor caller's cell set, and a voicemail on a call in the thread:
    what click-to-call and playback need to succeed for a caller allowed to use them."""
    voice = staff.runtime.voice_service()
    for caller in (staff.admin, staff.clinician):
        put = call(caller, "PUT", "/me/forwarding-number", body={"phone_number": "+13125550188"})
        assert put.status == 200, put.text
    assert call(staff.admin, "PUT", "/voice-settings", body={"enabled": True}).status == 200
    plan = voice.incoming_call(
        IncomingCall("simulated", f"CA-{conversation_id[:8]}", BUSINESS_NUMBER, CLIENT_PHONE, "t")
    )
    voice.voicemail_recorded(VoicemailRecording(plan.call_id, b"RIFF", "audio/wav", 1))
    return plan.call_id.split("/")[2]


def _request(staff: StaffApi, caller: Caller, method: str, path: str) -> int:
    params = _path_params(staff, path)
    return call(
        caller,
        method,
        path,
        path_params=params,
        body=BODIES.get((method, path)),
        query=QUERIES.get((method, path)),
        headers=BROWSER,
    ).status


def _is_public(method: str, path: str) -> bool:
    return (method, path) in PUBLIC


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_admin_of_the_tenant_succeeds(staff_api: StaffApi, method: str, path: str) -> None:
    assert _request(staff_api, staff_api.admin, method, path) == EXPECTED[(method, path)][0]


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_clinician_succeeds_or_is_refused_admin_routes(
    staff_api: StaffApi, method: str, path: str
) -> None:
    success, clinician = EXPECTED[(method, path)]
    expected = success if clinician == OK else clinician
    assert _request(staff_api, staff_api.clinician, method, path) == expected


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED))
def test_anonymous_callers_are_refused_everything_but_the_public_document(
    staff_api: StaffApi, method: str, path: str
) -> None:
    expected = EXPECTED[(method, path)][0] if _is_public(method, path) else 401
    assert _request(staff_api, staff_api.anonymous, method, path) == expected


@pytest.mark.parametrize(("method", "path"), sorted(set(EXPECTED) - PUBLIC))
def test_a_locked_session_is_refused_everything_but_unlocking_and_signing_out(
    staff_api: StaffApi, method: str, path: str
) -> None:
    # Given the clinician's page has locked (the route's objects made beforehand)
    params = _path_params(staff_api, path)
    assert call(staff_api.clinician, "POST", "/me/lock").status == 204
    # When the same, unexpired token calls the route
    status = call(
        staff_api.clinician,
        method,
        path,
        path_params=params,
        body=BODIES.get((method, path)),
        query=QUERIES.get((method, path)),
        headers=BROWSER,
    ).status
    # Then only the routes that pass the lock answer as they would unlocked
    success, clinician = EXPECTED[(method, path)]
    unlocked = success if clinician == OK else clinician
    assert status == (unlocked if (method, path) in PASSES_LOCK else 423)


@pytest.mark.parametrize(("method", "path"), sorted(k for k in EXPECTED if "{" in k[1]))
def test_another_tenants_admin_gets_404_for_this_tenants_ids(
    staff_api: StaffApi, method: str, path: str
) -> None:
    # Ids in the request never choose the tenant, and existence does not leak.
    assert _request(staff_api, staff_api.other_tenant_admin, method, path) == 404


def test_another_tenants_lists_show_none_of_this_tenants_data(staff_api: StaffApi) -> None:
    staff_api.contact(staff_api.admin, CLIENT_PHONE)
    listing = call(staff_api.other_tenant_admin, "GET", "/conversations")
    assert listing.status == 200 and listing.json["items"] == []
    users = call(staff_api.other_tenant_admin, "GET", "/users").json["items"]
    assert {u["email"] for u in users} == {
        "admin@cedar.quietline.local",
        "clinician@cedar.quietline.local",
    }


def test_clinicians_see_unassigned_and_their_own_conversations_only(staff_api: StaffApi) -> None:
    mine = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    theirs = staff_api.contact(staff_api.admin, OTHER_CLIENT_PHONE)
    assign: Callable[[str, str], Any] = lambda cid, who: call(  # noqa: E731
        staff_api.admin,
        "PUT",
        "/conversations/{conversation_id}/assignment",
        path_params={"conversation_id": cid},
        body={"user_id": who},
    )
    assert assign(mine, staff_api.clinician.user_id).status == 204
    assert assign(theirs, staff_api.other_clinician.user_id).status == 204
    seen = {
        c["conversation_id"]
        for c in call(staff_api.clinician, "GET", "/conversations").json["items"]
    }
    assert seen == {mine}
    hidden = call(
        staff_api.clinician,
        "GET",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": theirs},
    )
    assert hidden.status == 404
    admin_sees = {
        c["conversation_id"] for c in call(staff_api.admin, "GET", "/conversations").json["items"]
    }
    assert admin_sees == {mine, theirs}


def test_a_clinician_cannot_assign_a_conversation_to_someone_else(staff_api: StaffApi) -> None:
    contact = staff_api.contact(staff_api.admin, CLIENT_PHONE)
    response = call(
        staff_api.clinician,
        "PUT",
        "/conversations/{conversation_id}/assignment",
        path_params={"conversation_id": contact},
        body={"user_id": staff_api.other_clinician.user_id},
    )
    assert response.status == 403


# --- audit hooks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    sorted(AUDITED),
)
def test_every_phi_route_emits_exactly_its_audit_event(
    staff_api: StaffApi, method: str, path: str
) -> None:
    params = _path_params(staff_api, path)
    staff_api.audit.clear()
    response = call(
        staff_api.admin,
        method,
        path,
        path_params=params,
        body=BODIES.get((method, path)),
        query=QUERIES.get((method, path)),
        headers=BROWSER,
    )
    (event,) = staff_api.audit.events
    assert event.action == AUDITED[(method, path)]
    assert event.outcome is Outcome.SUCCESS and response.status < 400
    assert event.actor == staff_api.admin.user_id and event.tenant_id == "harbor"
    assert event.request_id and event.source_ip == "198.51.100.7"
    assert event.target == params


def test_a_failed_authorization_is_audited(staff_api: StaffApi) -> None:
    staff_api.audit.clear()
    assert call(staff_api.clinician, "GET", "/users").status == 403
    assert call(staff_api.anonymous, "GET", "/conversations").status == 401
    outcomes = [(e.action, e.outcome, e.actor) for e in staff_api.audit.events]
    assert outcomes == [
        ("user.list", Outcome.DENIED, staff_api.clinician.user_id),
        ("conversation.list", Outcome.DENIED, "anonymous"),
    ]
