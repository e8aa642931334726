"""schemathesis over the staff API's own OpenAPI document, in-process, as an admin and a clinician.

Every operation, with schemathesis' default checks (no 5xx; status codes, content types and
bodies as documented; invalid input refused, valid input accepted; authentication enforced),
plus ours: no traceback in any answer, no PHI in any refusal, and nothing stored by one.
The handler runs behind tests/integration/apigw_wsgi.py, which plays API Gateway and its
Cognito authorizer.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from functions.handlers.api import ROUTES, openapi_schema
from local.apigw import Route
from tests.conftest import phi_found
from tests.integration.api_harness import Caller, call
from tests.integration.apigw_wsgi import ApiGatewayWsgi
from tests.integration.conftest import StaffApi
from tests.phi_samples import PHI_VALUES

pytestmark = pytest.mark.integration

# Inputs whose validity JSON Schema cannot state: a real phone number (the numbering plan),
# an e-mail address, an IANA time zone with open-before-close hours, a cursor this API
# issued, an assignee who is enabled staff of the practice. A schema-valid value there may
# still be refused (422, 400 for a cursor); every other operation must accept what its
# schema accepts.
BEYOND_THE_SCHEMA = {
    "POST /contacts": "422",
    "POST /users": "422",
    "PUT /settings": "422",
    "PUT /conversations/{conversation_id}/assignment": "422",
    "GET /conversations": "400",
    "GET /conversations/{conversation_id}/messages": "400",
    "PUT /me/forwarding-number": "422",  # a real phone number
    "PUT /voice-settings": "422",  # routed business numbers are real phone numbers
    "GET /conversations/{conversation_id}/calls": "400",  # a cursor this API issued
    # Real audio: base64 of a WAV/MP3 of at most 60 s (422), of a type carriers play (415).
    "PUT /voice-settings/greeting": "415 422",
    # The rota names enabled staff of the practice, each range starting before it ends.
    "PUT /care-settings": "422",
    "GET /appointments": "422",  # a real calendar day
    "POST /appointments/import": "422",  # a CSV with its columns, an iCalendar file, an https feed
    "PUT /scheduling-settings": "422",  # an IANA time zone, HH:MM, a template's fields
    "PUT /me/pin": "422",  # six digits, but not one repeated digit or a straight run
    "POST /me/unlock": "422",  # the right PIN
    # A real authenticator's signed answer to a challenge this API issued.
    "POST /me/passkeys": "422",
    "POST /me/unlock/passkey": "422",
}
# schemathesis' default for valid data (5xx is not_a_server_error's to report), plus the above.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]

CONFIG = schemathesis.Config.from_dict(
    {
        "operations": [
            {
                "include-name": name,
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, *status.split()]}
                },
            }
            for name, status in BEYOND_THE_SCHEMA.items()
        ],
        # PHI-shaped strings in a fifth of generated strings, so an echo would show.
        "dictionaries": {"phi": {"values": list(PHI_VALUES)}},
        "generation": {
            "max-examples": 5,
            "dictionaries": {"string": {"dictionary": "phi", "probability": 0.2}},
        },
        # API Gateway answers a method the document does not declare (403, "Missing
        # Authentication Token") before any of our code runs: nothing here to send it to.
        "phases": {"coverage": {"unexpected-methods": []}},
    }
)
schema = schemathesis.pytest.from_fixture("staff_api_schema")


class SignedIn:
    """The ID tokens the gateway accepts: an admin's and a clinician's of one practice.

    Each operation starts with both freshly signed in, so that one operation's sign-out
    (POST /me/sign-out ends every session that began before it) spares the next ones.
    """

    ROLES = ("admin", "clinician")

    def __init__(self, staff_api: StaffApi) -> None:
        self.callers: dict[str, Caller] = {
            "admin": staff_api.admin,
            "clinician": staff_api.clinician,
        }
        routes = [Route(r.method, r.path, "api", authorized=not r.public) for r in ROUTES]
        assert staff_api.admin.api is not None
        self.gateway = ApiGatewayWsgi(staff_api.admin.api, routes, {})
        self.clock = staff_api.messaging.clock
        self.operation = ""
        self.sign_ins = 0

    def token(self, role: str) -> str:
        return f"id-token-{role}-{self.sign_ins}"

    def for_operation(self, label: str) -> None:
        if label == self.operation:
            return
        self.operation, self.sign_ins = label, self.sign_ins + 1
        self.gateway.id_tokens.clear()
        self.clock.advance(seconds=2)  # signed in after any earlier sign-out
        for role, caller in self.callers.items():
            assert caller.claims is not None
            claims = {
                **caller.claims,
                "origin_jti": f"session-{role}-{self.sign_ins}",
                "auth_time": str(int(self.clock.now().timestamp())),
            }
            self.gateway.id_tokens[self.token(role)] = claims
            # The first request of a session creates it: done here, not by a fuzzed request.
            assert call(dataclasses.replace(caller, claims=claims), "GET", "/me").status == 200


@pytest.fixture
def signed_in(staff_api: StaffApi) -> SignedIn:
    return SignedIn(staff_api)


@pytest.fixture
def staff_api_schema(signed_in: SignedIn) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_dict(openapi_schema(), config=CONFIG)
    loaded.app = signed_in.gateway  # schemathesis' own probes (e.g. without a token) go there
    return loaded


def _stored_items(table: Any) -> int:
    return int(table.scan(Select="COUNT")["Count"])


@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_documented_for_admins_and_clinicians(
    case: schemathesis.Case, signed_in: SignedIn, staff_api: StaffApi
) -> None:
    signed_in.for_operation(case.operation.label)
    stored = _stored_items(staff_api.messaging.table)
    # A real token replaces the generated Authorization value; a negative case that left
    # the header out on purpose keeps it out (it must then be refused, not signed in).
    signs_in = "Authorization" in (case.headers or {})
    for role in SignedIn.ROLES:
        headers = {"Authorization": signed_in.token(role)} if signs_in else {}
        response = case.call_and_validate(headers=headers)

        assert "Traceback" not in response.text and 'File "' not in response.text
        now_stored = _stored_items(staff_api.messaging.table)
        if response.status_code >= 400:
            assert phi_found(response.text) == [], "a refusal echoed PHI"
            assert now_stored == stored, "a refusal stored data"
        stored = now_stored
