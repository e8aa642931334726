"""The admin's recorded voicemail greeting on the Calls tab, in Chromium against the local
runtime: upload a WAV (the tab says the recording is in use, the API agrees), a recording
the API refuses shows why beside the file input, and removing it returns to text-to-speech.
Synthetic audio only (silence)."""

from __future__ import annotations

import io
import wave
from typing import TYPE_CHECKING, Any

import pytest

from tests.browser.checks import assert_contrast
from tests.browser.helpers import http, id_token, sign_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
expect = pytest.importorskip("playwright.sync_api").expect


def _silence(seconds: float) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"\x80" * int(8000 * seconds))
    return buffer.getvalue()


def _settings(runtime: dict[str, Any]) -> Any:
    status, saved = http(
        "GET",
        runtime["base_url"] + "/voice-settings",
        headers={"Authorization": id_token(runtime, "admin")},
    )
    assert status == 200
    return saved


def _calls_tab(page: Page, runtime: dict[str, Any]) -> None:
    sign_in(page, runtime, "admin")
    page.locator("#nav-admin").click()
    page.locator('.tab[data-tab="voice"]').click()


def test_an_admin_uploads_then_removes_the_recorded_greeting(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given the admin on the Calls tab, with no recording yet
    _calls_tab(page, runtime)
    source = page.locator("#voice-greeting-source")
    expect(source).to_have_text("Using text-to-speech")
    # When they choose a 2-second WAV
    page.get_by_label("Upload a recording").set_input_files(
        {"name": "greeting.wav", "mimeType": "audio/wav", "buffer": _silence(2)}
    )
    # Then the tab and the API say callers hear the recording
    expect(source).to_have_text("Using your recording")
    expect(page.locator("#admin-status")).to_have_text(
        "Greeting recording saved: callers hear it before the beep."
    )
    assert _settings(runtime)["greeting_recording"] is True
    assert_contrast(page)
    # When they remove it
    page.get_by_role("button", name="Remove the recording (use text-to-speech)").click()
    # Then the greeting text is spoken again
    expect(source).to_have_text("Using text-to-speech")
    expect(
        page.get_by_role("button", name="Remove the recording (use text-to-speech)")
    ).to_be_hidden()
    assert _settings(runtime)["greeting_recording"] is False


def test_a_recording_over_a_minute_is_refused_beside_the_file_input(
    page: Page, runtime: dict[str, Any]
) -> None:
    # Given the admin on the Calls tab
    _calls_tab(page, runtime)
    # When they choose a 61-second WAV (under 1 MB: the API judges its length)
    page.get_by_label("Upload a recording").set_input_files(
        {"name": "long.wav", "mimeType": "audio/wav", "buffer": _silence(61)}
    )
    # Then the API's reason shows next to the input, and nothing changed
    expect(page.locator("#voice-greeting-file-error")).to_have_text(
        "This recording must be at most 60 seconds."
    )
    expect(page.locator("#voice-greeting-source")).to_have_text("Using text-to-speech")
    assert _settings(runtime)["greeting_recording"] is False
