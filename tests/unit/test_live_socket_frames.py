"""Local mode's WebSocket framing (the RFC 6455 minimum served at /live)."""

from __future__ import annotations

import io
import os
import struct

import pytest

from local.live_socket import (
    MAX_FRAME_BYTES,
    TEXT,
    ProtocolError,
    accept_key,
    encode_frame,
    read_frame,
)

pytestmark = pytest.mark.unit


def _client_frame(payload: bytes, *, opcode: int = TEXT, masked: bool = True) -> bytes:
    size = len(payload)
    head = bytes([0x80 | opcode])
    length = bytes([size]) if size < 126 else bytes([126]) + struct.pack("!H", size)
    if not masked:
        return head + length + payload
    mask = os.urandom(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + bytes([length[0] | 0x80]) + length[1:] + mask + body


def test_the_handshake_answers_the_rfc_example() -> None:
    # RFC 6455 section 1.3's worked example.
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_a_masked_client_frame_is_read_back() -> None:
    payload = b'{"action":"auth","ticket":"' + b"t" * 200 + b'"}'
    assert read_frame(io.BytesIO(_client_frame(payload))) == (TEXT, payload)


def test_an_unmasked_client_frame_is_refused() -> None:
    with pytest.raises(ProtocolError):
        read_frame(io.BytesIO(_client_frame(b"ping", masked=False)))


def test_a_frame_over_the_limit_is_refused_before_it_is_read() -> None:
    head = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", MAX_FRAME_BYTES + 1)
    with pytest.raises(ProtocolError):
        read_frame(io.BytesIO(head))


def test_a_server_frame_is_unmasked_with_the_extended_length() -> None:
    frame = encode_frame(TEXT, b"x" * 300)
    assert frame[:4] == bytes([0x81, 126]) + struct.pack("!H", 300)
    assert frame[4:] == b"x" * 300
