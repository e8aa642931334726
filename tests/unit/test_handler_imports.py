"""What a handler's cold start loads: everything its every request uses, and no tracing SDK.

Each case runs in a fresh interpreter: import the handler, then build what every one of
its requests builds through its container (placeholder settings; building makes no
AWS call) and list what loaded only then. A module every request needs must load at init,
or the cold-start benchmark (bench/cold_start.py), which times the import, would miss it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import cache

import pytest

from bench.cold_start import handler_modules
from functions.core import settings
from infra.config import REPO_ROOT

pytestmark = pytest.mark.unit

# The container's factories every request of each handler calls (path-specific ones are left out:
# they may load on first use).
EVERY_REQUEST: dict[str, tuple[str, ...]] = {
    "api": ("session_guard", "audit_sink", "read_watch", "inbox_service", "clock"),
    "audit_sealer": ("audit_log", "clock"),
    "chime_call_control": ("voice_service", "voice_staging", "metrics", "clock"),
    "delivery_events": ("store", "metrics", "retry_queue"),
    "inbound_sns": ("inbound_service", "retry_queue"),
    "live_notifier": ("live_service",),
    "live_socket": ("live_service",),
    "retry_worker": ("store", "metrics"),
    "secure_link": ("secure_links", "audit_sink", "metrics", "clock"),
    "sender": ("sender_service", "outbound_queue"),
    "staff_notifier": ("staff_alerts",),
    "care_pager": ("care_pages",),
    # Define and create build nothing; verify (one call in three) builds passkey_sign_in.
    "passkey_sign_in": (),
    "sweeper": ("sweeper",),
    "schedule_sweep": ("due_sweep",),
    "twilio_webhook": ("twilio_auth_token", "store", "metrics", "retry_queue"),
    # The voice service is built on first use: its Lambda gets the voicemail bucket at merge.
    "twilio_voice": ("twilio_auth_token", "metrics"),
}
# Loaded on the first request although every request uses them, with the reason.
FIRST_USE: dict[str, set[str]] = {
    # The carrier adapter is chosen by configuration, which is read on first use, not at
    # import (settings convention); the default (AWS) adapter is the one loaded here.
    "sender": {"functions.carriers.aws_sms", "functions.carriers.timestamps"},
}
PARSE_A_NUMBER_ON_EVERY_REQUEST = {"inbound_sns", "sender"}

_PROBE = """
import importlib, json, os, sys
importlib.import_module("functions.handlers." + sys.argv[1])
at_init = set(sys.modules)
if sys.argv[2:]:
    from functions.container import Container
    from functions.core.settings import Settings
    runtime = Container(Settings.from_environ(os.environ))
    for factory in sys.argv[2:]:
        getattr(runtime, factory)()
print(json.dumps({"at_init": sorted(at_init), "later": sorted(set(sys.modules) - at_init)}))
"""


@cache  # one interpreter per handler, shared by the tests below
def _probe(handler: str, factories: tuple[str, ...]) -> dict[str, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        settings.ENV_TABLE_NAME: "quietline-test",
        settings.ENV_AUDIT_TABLE_NAME: "quietline-audit-test",
        settings.ENV_USER_POOL_ID: "us-east-1_test",
        settings.ENV_OUTBOUND_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/outbound",
        settings.ENV_RETRY_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/retry",
        settings.ENV_SECURE_LINK_BASE_URL: "https://inbox.example.test",
        settings.ENV_CARRIER: "aws",
        settings.ENV_LIVE_MANAGEMENT_URL: "https://ws.example.test/live",
        settings.ENV_VOICEMAIL_BUCKET: "quietline-voicemail-test",
        settings.ENV_VOICE_STAGING_BUCKET: "quietline-voice-staging-test",
        settings.ENV_CHIME_SIP_MEDIA_APPLICATION_ID: "sma-test",
    }
    env.pop(settings.ENV_TWILIO_AUTH_TOKEN_SECRET, None)  # no Secrets Manager read
    result = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", _PROBE, handler, *factories],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, list[str]] = json.loads(result.stdout)
    return found


def test_every_handler_has_a_decision() -> None:
    assert {m.rsplit(".", 1)[-1] for m in handler_modules()} == set(EVERY_REQUEST)


@pytest.mark.parametrize("handler", sorted(EVERY_REQUEST))
def test_what_every_request_uses_is_imported_at_init(handler: str) -> None:
    modules = _probe(handler, EVERY_REQUEST[handler])

    ours_later = {m for m in modules["later"] if m.split(".")[0] in {"functions", "phonenumbers"}}
    assert ours_later == FIRST_USE.get(handler, set())
    if handler in PARSE_A_NUMBER_ON_EVERY_REQUEST:
        assert "phonenumbers" in modules["at_init"]


@pytest.mark.parametrize("handler", sorted(EVERY_REQUEST))
def test_no_handler_loads_a_tracing_sdk(handler: str) -> None:
    # Tracing is Lambda's own (active tracing); the X-Ray SDK would patch botocore and
    # cost more to import than boto3 itself (docs/architecture.md, "Tracing").
    modules = _probe(handler, EVERY_REQUEST[handler])

    loaded = {m.split(".")[0] for m in modules["at_init"] + modules["later"]}
    assert not loaded & {"aws_xray_sdk", "opentelemetry"}
