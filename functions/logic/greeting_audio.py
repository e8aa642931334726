"""What an uploaded voicemail greeting must be: a WAV (PCM) or MP3 file of at most 1 MB
and 60 seconds, checked from its own bytes (not the name or the declared type alone).

Both carriers play these: Twilio's <Play> takes WAV and MP3; Chime's PlayAudio takes WAV
only, so Chime speaks the greeting text over an MP3 (docs/voice.md, "Greeting recordings").
Pure: stdlib only, no I/O.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass

from functions.core.errors import BodyTooLargeError, UnsupportedMediaTypeError, ValidationError

MAX_GREETING_BYTES = 1024 * 1024
MAX_GREETING_SECONDS = 60

# Declared type -> (file extension, stored Content-Type). Browsers name WAV three ways.
_TYPES = {
    "audio/wav": ("wav", "audio/wav"),
    "audio/x-wav": ("wav", "audio/wav"),
    "audio/wave": ("wav", "audio/wav"),
    "audio/mpeg": ("mp3", "audio/mpeg"),
    "audio/mp3": ("mp3", "audio/mpeg"),
}

# MPEG audio frame header tables (ISO 11172-3 / 13818-3), layer III only.
_MP3_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class GreetingAudio:
    audio: bytes
    extension: str  # "wav" or "mp3": the object key's suffix, which Chime's check reads
    content_type: str
    seconds: float


def check_greeting(audio: bytes, declared_type: str) -> GreetingAudio:
    """The upload as a playable greeting, or the refusal naming the field at fault:
    413 `audio` too large, 415 `content_type` not WAV/MP3, 422 `audio` unreadable/too long."""
    if len(audio) > MAX_GREETING_BYTES:
        raise BodyTooLargeError("audio", f"must be at most {MAX_GREETING_BYTES} bytes")
    known = _TYPES.get(declared_type.split(";", maxsplit=1)[0].strip().lower())
    if known is None:
        raise UnsupportedMediaTypeError("content_type", "must be audio/wav or audio/mpeg")
    extension, content_type = known
    seconds = _wav_seconds(audio) if extension == "wav" else _mp3_seconds(audio)
    if seconds > MAX_GREETING_SECONDS:
        raise ValidationError("audio", f"must be at most {MAX_GREETING_SECONDS} seconds")
    return GreetingAudio(audio, extension, content_type, seconds)


def _wav_seconds(audio: bytes) -> float:
    try:
        with wave.open(io.BytesIO(audio), "rb") as reader:
            frames, rate = reader.getnframes(), reader.getframerate()
    except (wave.Error, EOFError, RuntimeError, ValueError, struct.error):
        # A malformed chunk size makes `wave` seek past the end (RuntimeError) or misread.
        raise ValidationError("audio", "must be a PCM WAV file") from None
    if rate <= 0 or frames <= 0:
        raise ValidationError("audio", "must be a PCM WAV file with sound in it")
    return frames / rate


def _mp3_seconds(audio: bytes) -> float:
    """Walk the MPEG layer III frames (after any ID3v2 tag), summing their durations."""
    position = _skip_id3(audio)
    seconds, frames = 0.0, 0
    while position + 4 <= len(audio):
        frame = _mp3_frame(audio[position : position + 4])
        if frame is None:
            if audio[position : position + 3] == b"TAG":  # ID3v1 trailer
                break
            raise ValidationError("audio", "must be an MP3 file")
        length, duration = frame
        position += length
        seconds += duration
        frames += 1
        if seconds > MAX_GREETING_SECONDS:  # no need to read further
            break
    if frames == 0:
        raise ValidationError("audio", "must be an MP3 file")
    return seconds


def _skip_id3(audio: bytes) -> int:
    if audio[:3] != b"ID3" or len(audio) < 10:
        return 0
    size = 0
    for byte in audio[6:10]:  # syncsafe: 7 bits a byte
        size = (size << 7) | (byte & 0x7F)
    return 10 + size


def _mp3_frame(header: bytes) -> tuple[int, float] | None:
    """(frame length in bytes, seconds) of a layer III frame header, else None."""
    if header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version = (header[1] >> 3) & 0x03  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer = (header[1] >> 1) & 0x03  # 1: layer III
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x03
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    padding = (header[2] >> 1) & 0x01
    rate = _MP3_RATES[version][rate_index]
    bitrates = _MP3_BITRATES_V1 if version == 3 else _MP3_BITRATES_V2
    samples = 1152 if version == 3 else 576
    length = samples // 8 * bitrates[bitrate_index] * 1000 // rate + padding
    return length, samples / rate
