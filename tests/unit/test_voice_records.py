"""Voice records stop malformed carrier input at the boundary, without echoing it."""

from __future__ import annotations

import pytest

from functions.core.errors import ValidationError
from functions.core.voice import (
    CallOutcome,
    CallReport,
    IncomingCall,
    NumberRouting,
    VoicemailRecording,
    VoiceSettings,
    require_call_id,
)
from functions.logic.voice_settings import validate_voice_settings
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE

pytestmark = pytest.mark.unit


def test_an_incoming_call_from_a_number_not_in_e164_is_refused_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as raised:
        IncomingCall("twilio", "CA1", BUSINESS_NUMBER, "tel:2065550142", "2026-01-01T00:00:00Z")
    assert "2065550142" not in str(raised.value)


def test_a_call_report_refuses_a_call_id_that_is_not_ours() -> None:
    with pytest.raises(ValidationError):
        CallReport(CLIENT_PHONE, CallOutcome.NO_ANSWER)


def test_a_call_id_is_three_id_segments() -> None:
    assert require_call_id("harbor/conv1/01JCAL") == "harbor/conv1/01JCAL"
    with pytest.raises(ValidationError):
        require_call_id("harbor/conv1/01JCAL?x=1")


def test_an_empty_voicemail_is_refused() -> None:
    with pytest.raises(ValidationError):
        VoicemailRecording("harbor/conv1/01JCAL", b"", "audio/wav", 3)


def test_a_clinicians_number_is_not_in_a_records_repr() -> None:
    call = IncomingCall("twilio", "CA1", BUSINESS_NUMBER, CLIENT_PHONE, "2026-01-01T00:00:00Z")
    assert CLIENT_PHONE not in repr(call)


def test_voice_settings_refuse_a_business_number_routed_twice() -> None:
    routes = (NumberRouting(BUSINESS_NUMBER, ("u1",)), NumberRouting(BUSINESS_NUMBER, ("u2",)))
    with pytest.raises(ValidationError) as raised:
        validate_voice_settings(VoiceSettings(enabled=True, routes=routes))
    assert raised.value.field == "voice.routes[1].business_number"


def test_voice_settings_refuse_a_ring_time_a_carrier_would_not_honour() -> None:
    routes = (NumberRouting(BUSINESS_NUMBER, ("u1",), ring_seconds=300),)
    with pytest.raises(ValidationError):
        validate_voice_settings(VoiceSettings(enabled=True, routes=routes))
