"""The Twilio voice webhook routes: one list, served alike by the API and local mode."""

from __future__ import annotations

import pytest

from functions.carriers.twilio_voice import VOICE_BASE_PATH, VOICE_WEBHOOK_PATHS
from functions.handlers.twilio_voice import ROUTES
from local.routes import ROUTES as LOCAL_ROUTES
from local.routes import TWILIO_VOICE_HANDLER

pytestmark = pytest.mark.infra


def test_local_mode_serves_every_voice_webhook_with_the_voice_handler_by_post() -> None:
    served = {r.template for r in LOCAL_ROUTES if r.handler == TWILIO_VOICE_HANDLER}

    assert served == set(VOICE_WEBHOOK_PATHS)
    assert {r.method for r in LOCAL_ROUTES if r.handler == TWILIO_VOICE_HANDLER} == {"POST"}


def test_every_listed_path_has_a_route_in_the_handler_and_sits_under_the_voice_base() -> None:
    handled = set(ROUTES) | {p for p in VOICE_WEBHOOK_PATHS if p.endswith("/recording")}

    assert handled == set(VOICE_WEBHOOK_PATHS)
    assert all(p.startswith(VOICE_BASE_PATH) for p in VOICE_WEBHOOK_PATHS)
