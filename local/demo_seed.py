"""Demo conversations for a fresh local mode, so the first inbox is not empty.

Sent the way real traffic arrives: the clients' texts through the carrier's inbound route
(End User Messaging's SNS stand-in), the clinician's replies through the staff API with a
real sign-in, so they are encrypted, audited, queued and "delivered" by the simulated
carrier like any other. The clients are fictional; their numbers are in the 555-01xx
range reserved for fiction. Nothing here logs a number or a body.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from local.identity import LocalPool, sign_in
from local.routes import AWS_SMS_INBOUND_PATH
from local.sim_voice import FINISHED_PATH, INCOMING_PATH, VOICEMAIL_PATH

logger = logging.getLogger("quietline.local")


@dataclass(frozen=True)
class DemoText:
    inbound: bool  # from the client (else from the clinician)
    body: str
    secure_link: bool = False


@dataclass(frozen=True)
class DemoClient:
    phone_number: str
    display_name: str
    consent_mode: str  # functions.core.models.ConsentMode
    texts: tuple[DemoText, ...]


DEMO_CLIENTS = (
    DemoClient(
        "+12065550131",
        "Riley Demo",
        "plain_sms",
        (
            DemoText(True, "Hi! Could we move next week's appointment to the afternoon?"),
            DemoText(False, "Of course. Tuesday at 3pm is open - shall I book it?"),
            DemoText(True, "Tuesday at 3 is perfect, thank you."),
        ),
    ),
    DemoClient(
        "+12065550153",
        "Sam Sample",
        "secure_link",
        (
            DemoText(False, "Here is the worksheet we talked about today.", secure_link=True),
            DemoText(True, "Got it, thanks. I'll fill it in before we meet."),
        ),
    ),
    DemoClient(
        "+12065550175",
        "Alex Example",
        "plain_sms",
        (DemoText(True, "Running a few minutes late today, see you soon."),),
    ),
)


# The demo clinician's own cell (fictional, 555-01xx), typed as a person would.
DEMO_FORWARDING_NUMBER = "(206) 555-0142"
DEMO_VOICEMAIL_CALLER = DEMO_CLIENTS[0].phone_number


class SeedError(RuntimeError):
    """A seeding call was refused (status only: the body could hold PHI)."""


def _call(method: str, url: str, body: Any, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(  # noqa: S310 - our own server's http:// URL
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise SeedError(f"{method} seeding call answered {error.code}") from None
    return json.loads(raw) if raw else None


def seed_demo_conversations(
    base_url: str, cognito: Any, pool: LocalPool, tenant_id: str, business_number: str
) -> int:
    """Texts back and forth with DEMO_CLIENTS in `tenant_id`; returns how many were sent."""
    clinician = next(
        user for user in pool.users if user.tenant_id == tenant_id and user.role == "clinician"
    )
    token = sign_in(cognito, pool.client_id, clinician)["IdToken"]
    staff = {"Authorization": token}
    sent = 0
    for client in DEMO_CLIENTS:
        contact = _call(
            "POST",
            f"{base_url}/contacts",
            {
                "phone_number": client.phone_number,
                "display_name": client.display_name,
                "consent": {"mode": client.consent_mode, "wording_version": "v1"},
            },
            staff,
        )
        conversation_id = contact["contact_id"]  # the conversation id
        for text in client.texts:
            if text.inbound:
                _call(
                    "POST",
                    base_url + AWS_SMS_INBOUND_PATH,
                    {
                        "originationNumber": client.phone_number,
                        "destinationNumber": business_number,
                        "messageKeyword": "KEYWORD_DEMO",
                        "messageBody": text.body,
                        "inboundMessageId": f"demo-{uuid.uuid4()}",
                        "previousPublishedMessageId": "",
                    },
                    {},
                )
            else:
                _call(
                    "POST",
                    f"{base_url}/conversations/{conversation_id}/messages",
                    {"body": text.body, "mode": "secure_link" if text.secure_link else "plain"},
                    staff,
                )
            sent += 1
    return sent


def _token(cognito: Any, pool: LocalPool, tenant_id: str, role: str) -> str:
    user = next(u for u in pool.users if u.tenant_id == tenant_id and u.role == role)
    return str(sign_in(cognito, pool.client_id, user)["IdToken"])


def seed_demo_voice(
    base_url: str, cognito: Any, pool: LocalPool, tenant_id: str, business_number: str
) -> None:
    """Voice on, the business number ringing the demo clinician's (fictional) cell, and one
    missed call with a voicemail from the first demo client, played by the simulated voice
    carrier through the same carrier-facing routes a browser uses (local/sim_voice.py)."""
    clinician = {"Authorization": _token(cognito, pool, tenant_id, "clinician")}
    admin = {"Authorization": _token(cognito, pool, tenant_id, "admin")}
    clinician_id = _call("GET", f"{base_url}/me", None, clinician)["user_id"]
    _call(
        "PUT",
        f"{base_url}/me/forwarding-number",
        {"phone_number": DEMO_FORWARDING_NUMBER},
        clinician,
    )
    _call(
        "PUT",
        f"{base_url}/voice-settings",
        {
            "enabled": True,
            "routes": [
                {
                    "business_number": business_number,
                    "user_ids": [clinician_id],
                    "strategy": "sequential",
                    "ring_seconds": 20,
                }
            ],
        },
        admin,
    )
    plan = _call(
        "POST",
        base_url + INCOMING_PATH,
        {"from": DEMO_VOICEMAIL_CALLER, "to": business_number},
        {},
    )
    if plan["action"] == "ring":  # else after hours: straight to the greeting
        _call(
            "POST",
            base_url + FINISHED_PATH,
            {"call_id": plan["call_id"], "outcome": "no_answer"},
            {},
        )
    _call("POST", base_url + VOICEMAIL_PATH, {"call_id": plan["call_id"], "seconds": 3}, {})
