"""Voice off (the default app): nothing of voicemail transcription is deployed, and no
function may call Amazon Transcribe or is told of a transcription bucket."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.core import settings
from tests.infra.conftest import resources

pytestmark = pytest.mark.infra


def test_without_voice_no_function_may_call_transcribe(template: dict[str, Any]) -> None:
    policies = [
        *resources(template, "AWS::IAM::Policy").values(),
        *resources(template, "AWS::IAM::ManagedPolicy").values(),
    ]
    assert policies  # the scan below looked at the real grants
    assert not any("transcribe:" in json.dumps(p["Properties"]) for p in policies)


def test_without_voice_there_is_no_transcription_bucket_or_setting(
    template: dict[str, Any],
) -> None:
    assert not [b for b in resources(template, "AWS::S3::Bucket") if "Transcription" in b]
    for fn in resources(template, "AWS::Lambda::Function").values():
        variables = fn["Properties"].get("Environment", {}).get("Variables", {})
        assert settings.ENV_TRANSCRIPTION_BUCKET not in variables
