"""Which uploaded greetings are playable: WAV (PCM) or MP3, at most 1 MB and 60 seconds,
judged from the bytes themselves."""

from __future__ import annotations

import io
import wave

import pytest

from functions.core.errors import BodyTooLargeError, UnsupportedMediaTypeError, ValidationError
from functions.logic.greeting_audio import check_greeting

# MPEG-1 layer III, 128 kbit/s, 44.1 kHz, no padding: 417-byte frames of 1152 samples.
_MP3_FRAME = b"\xff\xfb\x90\x00" + b"\0" * 413
_FRAME_SECONDS = 1152 / 44100


def mp3(seconds: float) -> bytes:
    return _MP3_FRAME * round(seconds / _FRAME_SECONDS)


def wav(seconds: float, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(b"\x80" * int(rate * seconds))
    return buffer.getvalue()


def test_a_short_wav_is_accepted_with_its_length() -> None:
    checked = check_greeting(wav(2.5), "audio/wav")
    assert (checked.extension, checked.content_type) == ("wav", "audio/wav")
    assert checked.seconds == pytest.approx(2.5)


def test_a_wav_named_the_windows_way_is_stored_as_audio_wav() -> None:
    assert check_greeting(wav(1), "audio/x-wav").content_type == "audio/wav"


def test_an_mp3_is_timed_by_its_frames() -> None:
    checked = check_greeting(mp3(10), "audio/mpeg")
    assert checked.extension == "mp3"
    assert checked.seconds == pytest.approx(10, abs=0.05)


def test_an_id3_tag_before_the_frames_is_skipped() -> None:
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\0" * 10  # a 10-byte tag body
    assert check_greeting(tag + mp3(1), "audio/mpeg").seconds == pytest.approx(1, abs=0.05)


def test_an_mp3_over_a_minute_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        check_greeting(mp3(61), "audio/mpeg")
    assert (refused.value.field, refused.value.problem) == ("audio", "must be at most 60 seconds")


def test_a_wav_over_a_minute_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        check_greeting(wav(60.5), "audio/wav")
    assert refused.value.field == "audio"


def test_a_wav_whose_chunk_sizes_run_past_its_end_is_refused_not_crashed() -> None:
    broken = bytearray(wav(1))
    broken[16:20] = (0x2A000010).to_bytes(4, "little")  # the fmt chunk claims ~700 MB

    with pytest.raises(ValidationError) as refused:
        check_greeting(bytes(broken), "audio/wav")
    assert (refused.value.field, refused.value.problem) == ("audio", "must be a PCM WAV file")


def test_bytes_that_are_not_mp3_frames_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        check_greeting(wav(1), "audio/mpeg")
    assert (refused.value.field, refused.value.problem) == ("audio", "must be an MP3 file")


def test_more_than_a_megabyte_is_too_large_whatever_it_holds() -> None:
    with pytest.raises(BodyTooLargeError) as refused:
        check_greeting(b"\0" * (1024 * 1024 + 1), "audio/wav")
    assert refused.value.field == "audio"


def test_other_audio_types_are_unsupported() -> None:
    with pytest.raises(UnsupportedMediaTypeError) as refused:
        check_greeting(b"OggS", "audio/ogg")
    assert refused.value.field == "content_type"
