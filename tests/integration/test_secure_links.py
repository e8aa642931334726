"""Secure messages: the text holds only a link; a texted one-time code opens it once."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from functions.core.clock import iso
from functions.core.errors import InvalidCodeError, LinkLockedError
from functions.handlers import secure_link, sender
from functions.logic.secure_links import SecureLinkService
from local.apigw import LambdaContext
from local.identity import LocalPool
from tests.integration.api_harness import call
from tests.integration.conftest import Messaging, StaffApi, build_staff_api
from tests.phi_samples import BODY, CLIENT_PHONE, OTHER_BODY

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("secure")


@pytest.fixture
def staff(messaging: Messaging, staff_pool: LocalPool) -> StaffApi:
    return build_staff_api(
        messaging, staff_pool, secure_link_base_url="https://inbox.harbor.example"
    )


def _send_all(staff: StaffApi) -> None:
    event = staff.messaging.sqs_event(staff.messaging.outbound_url)
    if event["Records"]:
        result = staff.messaging.bound(sender)(event, CONTEXT)
        staff.messaging.delete_all(
            staff.messaging.outbound_url,
            event,
            {f["itemIdentifier"] for f in result["batchItemFailures"]},
        )


def _client(
    staff: StaffApi,
    method: str,
    token: str,
    step: str,
    body: Any = None,
    session: str | None = None,
) -> tuple[int, Any]:
    path = f"/secure/{token}/{step}"
    headers = {
        "Content-Type": "application/json",
        **({"X-Secure-Session": session} if session else {}),
    }
    event = {
        "resource": "/secure/{token}/" + step,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "pathParameters": {"token": token},
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": "203.0.113.5"},
            "path": path,
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    response = secure_link.handler.bound(staff.runtime)(event, CONTEXT)
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def _secure_send(staff: StaffApi, body: str = BODY) -> tuple[str, str]:
    contact = staff.contact(staff.admin, CLIENT_PHONE, mode="secure_link")
    sent = call(
        staff.admin,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
        body={"body": body, "mode": "secure_link"},
    )
    assert sent.status == 202, sent.text
    _send_all(staff)
    (notice,) = staff.messaging.carrier.outbox(CLIENT_PHONE)
    match = re.fullmatch(
        r"New secure message from Harbor Counseling: https://inbox\.harbor\.example/s#([\w-]+)",
        notice.body,
    )
    assert match, "the text carries only the practice name and the link"
    return contact, match.group(1)


def _code(staff: StaffApi) -> str:
    _send_all(staff)
    texts = staff.messaging.carrier.outbox(CLIENT_PHONE)
    found = re.search(r"is (\d{6})\.", texts[-1].body)
    assert found
    return found.group(1)


def test_the_sms_holds_no_phi_and_the_client_reads_after_verifying(staff: StaffApi) -> None:
    contact, token = _secure_send(staff)
    assert len(token) >= 32  # 192 random bits, base64url
    assert _client(staff, "GET", token, "message") == (
        401,
        {"error": "the code is not right or has expired", "attempts_left": 5},
    )
    assert _client(staff, "POST", token, "challenge") == (200, {"method": "sms_code"})
    status, body = _client(staff, "POST", token, "verify", {"code": _code(staff)})
    assert status == 200
    session = body["session"]
    status, view = _client(staff, "GET", token, "message", session=session)
    assert status == 200 and view["body"] == BODY and view["practice"] == "Harbor Counseling"
    assert _client(staff, "POST", token, "reply", {"body": OTHER_BODY}, session=session)[0] == 202
    thread = call(
        staff.admin,
        "GET",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
    )
    assert [m["body"] for m in thread.json["items"] if m["direction"] == "inbound"] == [OTHER_BODY]
    steps = [
        (e.action, e.outcome.value) for e in staff.audit.events if e.actor.startswith("client:")
    ]
    assert steps == [
        ("secure_message.view", "denied"),
        ("secure_message.code_sent", "success"),
        ("secure_message.verified", "success"),
        ("secure_message.view", "success"),
        ("secure_message.reply", "success"),
    ]


def test_wrong_codes_lock_the_link_for_good(staff: StaffApi) -> None:
    _, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    right = _code(staff)
    wrong = "000000" if right != "000000" else "111111"
    for attempts_left in (4, 3, 2, 1):
        assert _client(staff, "POST", token, "verify", {"code": wrong}) == (
            401,
            {"error": "the code is not right or has expired", "attempts_left": attempts_left},
        )
    assert _client(staff, "POST", token, "verify", {"code": wrong}) == (423, {"error": "locked"})
    assert _client(staff, "POST", token, "verify", {"code": right}) == (423, {"error": "locked"})
    assert _client(staff, "POST", token, "challenge") == (423, {"error": "locked"})
    failures = [e for e in staff.audit.events if e.action == "secure_message.verify_failed"]
    assert len(failures) == 5
    assert staff.messaging.metrics.counts["SecureLinkCodeRejected"] == 5


def test_a_code_opens_the_link_once(staff: StaffApi) -> None:
    _, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    code = _code(staff)
    assert _client(staff, "POST", token, "verify", {"code": code})[0] == 200
    assert _client(staff, "POST", token, "verify", {"code": code})[0] == 401


def test_an_expired_or_unknown_link_is_gone(staff: StaffApi) -> None:
    _, token = _secure_send(staff)
    staff.messaging.clock.advance(hours=73)
    assert _client(staff, "POST", token, "challenge")[0] == 410
    assert _client(staff, "POST", "x" * 32, "challenge")[0] == 410


def test_codes_are_limited_per_link(staff: StaffApi) -> None:
    _, token = _secure_send(staff)
    for _ in range(3):
        assert _client(staff, "POST", token, "challenge")[0] == 200
    assert _client(staff, "POST", token, "challenge") == (423, {"error": "locked"})


def test_an_opted_out_client_gets_no_secure_link_either(staff: StaffApi) -> None:
    contact = staff.contact(staff.admin, CLIENT_PHONE, mode="secure_link")
    from functions.handlers import inbound_sns
    from tests.builders import sns_inbound
    from tests.phi_samples import BUSINESS_NUMBER

    staff.messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body="STOP"), CONTEXT
    )
    refused = call(
        staff.admin,
        "POST",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
        body={"body": BODY, "mode": "secure_link"},
    )
    assert refused.status == 409 and BODY not in refused.text


class _ReadTogether:
    """The link store, but every guess waits after reading the link until all have read
    it: the worst interleaving of guesses racing from many Lambda instances."""

    def __init__(self, links: Any, guesses: int) -> None:
        self._links = links
        self._all_read = threading.Barrier(guesses, timeout=30)

    def get(self, token_hash: str) -> Any:
        link = self._links.get(token_hash)
        self._all_read.wait()
        return link

    def __getattr__(self, name: str) -> Any:
        return getattr(self._links, name)


def _guess(service: SecureLinkService, token: str, code: str) -> str:
    try:
        service.verify(token, code)
    except InvalidCodeError as error:
        return f"wrong, {error.attempts_left} left"
    except LinkLockedError:
        return "locked"
    return "verified"


def test_racing_wrong_guesses_are_compared_at_most_max_attempts_times(staff: StaffApi) -> None:
    # Given a link with a live code, and 40 wrong guesses that all read it before any is counted
    _, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    right = _code(staff)
    wrong = "000000" if right != "000000" else "111111"
    service = staff.runtime.secure_links()
    links = service.links
    staff.audit.clear()

    # When they race
    service.links = _ReadTogether(links, 40)
    with ThreadPoolExecutor(max_workers=40) as pool:
        answers = Counter(pool.map(lambda _: _guess(service, token, wrong), range(40)))
    service.links = links

    # Then five were compared (four answered with attempts left, the fifth locked the link)
    # and every other guess was refused as locked without being compared
    compared_and_wrong = {f"wrong, {left} left": 1 for left in (4, 3, 2, 1)}
    assert answers == Counter({**compared_and_wrong, "locked": 36})
    denials = Counter(e.action for e in staff.audit.events if e.outcome.value == "denied")
    assert denials == Counter(
        {"secure_message.verify_failed": 5, "secure_message.verify_refused": 35}
    )
    assert staff.messaging.metrics.counts["SecureLinkCodeRejected"] == 5
    # And the right code no longer opens it
    assert _client(staff, "POST", token, "verify", {"code": right}) == (423, {"error": "locked"})


def test_a_right_code_hands_back_the_attempt_it_was_counted_as(staff: StaffApi) -> None:
    # Given four wrong codes, then the right one
    _, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    right = _code(staff)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(4):
        _client(staff, "POST", token, "verify", {"code": wrong})
    assert _client(staff, "POST", token, "verify", {"code": right})[0] == 200

    # When the client opens the link again later with a new code
    _client(staff, "POST", token, "challenge")
    again = _client(staff, "POST", token, "verify", {"code": _code(staff)})

    # Then it opens: only the four wrong codes counted toward the lock
    assert again[0] == 200


def _thread(staff: StaffApi, contact: str) -> list[dict[str, Any]]:
    answer = call(
        staff.admin,
        "GET",
        "/conversations/{conversation_id}/messages",
        path_params={"conversation_id": contact},
    )
    assert answer.status == 200, answer.text
    items: list[dict[str, Any]] = answer.json["items"]
    return items


def test_staff_see_that_a_code_was_sent_but_never_the_code(staff: StaffApi) -> None:
    # Given a secure link the client asked a code for, and the code texted to their phone
    contact, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    code = _code(staff)

    # When staff read the thread
    thread = _thread(staff, contact)

    # Then the code text shows as a marker of its kind, and the code is nowhere in it
    (marker,) = [m for m in thread if m["kind"] == "verification_code"]
    assert marker["status"] == "sent" and marker["sent_by"] == "system"
    assert code not in json.dumps(thread)
    # And the stored message keeps no copy of what was texted once it was sent
    items = staff.messaging.table.scan()["Items"]
    (stored,) = [i for i in items if "body_record" in i and i["message_id"] == marker["message_id"]]
    assert "sms_text_record" not in stored


def test_the_thread_marks_a_secure_link_and_when_the_client_opened_it(staff: StaffApi) -> None:
    # Given a secure link, sent but not yet opened
    contact, token = _secure_send(staff)
    (link,) = [m for m in _thread(staff, contact) if m["kind"] == "secure_link"]
    assert link["opened_at"] is None
    opened_at = staff.messaging.clock.now()

    # When the client opens it, and opens it again later with a new code
    for _ in range(2):
        _client(staff, "POST", token, "challenge")
        session = _client(staff, "POST", token, "verify", {"code": _code(staff)})[1]["session"]
        assert _client(staff, "GET", token, "message", session=session)[0] == 200
        staff.messaging.clock.advance(minutes=5)

    # Then the thread says when it was first opened
    (link,) = [m for m in _thread(staff, contact) if m["kind"] == "secure_link"]
    assert link["opened_at"] == iso(opened_at)
