"""Live updates: single-use tickets, fan-out to a tenant's sockets, frames with ids only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from functions.core.errors import ThrottledError
from functions.logic.access import Principal, Role
from functions.logic.live import TICKET_SECONDS, Change, LiveConnection, LiveService
from tests.phi_samples import BODY, CLIENT_PHONE
from tests.voice_fakes import FixedClock

pytestmark = pytest.mark.unit

CLINICIAN = Principal("user-1", "harbor", Role.CLINICIAN, "s-1", 0)
NOW = datetime(2026, 11, 28, 22, 0, tzinfo=UTC)


@dataclass
class MemoryRegistry:
    tickets: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    sockets: dict[str, LiveConnection] = field(default_factory=dict)

    def put_ticket(self, digest: str, tenant_id: str, user_id: str, expires_at: int) -> None:
        self.tickets[digest] = (tenant_id, user_id, expires_at)

    def take_ticket(self, digest: str) -> tuple[str, str, int] | None:
        return self.tickets.pop(digest, None)

    def add_connection(self, connection: LiveConnection, expires_at: int) -> None:
        self.sockets[connection.connection_id] = connection

    def connections(self, tenant_id: str) -> list[LiveConnection]:
        return [c for c in self.sockets.values() if c.tenant_id == tenant_id]

    def remove_connection(self, connection_id: str) -> None:
        self.sockets.pop(connection_id, None)


@dataclass
class RecordingPublisher:
    gone: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    frames: list[tuple[str, bytes]] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)

    def post(self, connection_id: str, payload: bytes) -> bool:
        if connection_id in self.failing:
            raise ThrottledError("PostToConnection: LimitExceededException")
        if connection_id in self.gone:
            return False
        self.frames.append((connection_id, payload))
        return True

    def close(self, connection_id: str) -> None:
        self.closed.append(connection_id)


def _service() -> tuple[LiveService, MemoryRegistry, RecordingPublisher, FixedClock]:
    registry, publisher, clock = MemoryRegistry(), RecordingPublisher(), FixedClock(NOW)
    return LiveService(registry, publisher, clock), registry, publisher, clock


def test_a_ticket_binds_the_socket_to_its_user() -> None:
    service, registry, _, _ = _service()
    ticket = service.ticket(CLINICIAN)
    assert service.authenticate("sock-1", ticket) is True
    assert registry.sockets["sock-1"] == LiveConnection("sock-1", "harbor", "user-1")


def test_a_ticket_is_stored_only_as_its_digest() -> None:
    service, registry, _, _ = _service()
    ticket = service.ticket(CLINICIAN)
    assert ticket not in registry.tickets
    assert len(ticket) >= 40  # 32 random bytes, URL-safe


def test_a_ticket_works_once_and_a_second_socket_is_closed() -> None:
    service, registry, publisher, _ = _service()
    ticket = service.ticket(CLINICIAN)
    service.authenticate("sock-1", ticket)
    assert service.authenticate("sock-2", ticket) is False
    assert publisher.closed == ["sock-2"]
    assert "sock-2" not in registry.sockets


def test_a_stale_ticket_is_refused() -> None:
    service, registry, publisher, clock = _service()
    ticket = service.ticket(CLINICIAN)
    clock.current = NOW + timedelta(seconds=TICKET_SECONDS + 1)
    assert service.authenticate("sock-1", ticket) is False
    assert publisher.closed == ["sock-1"]
    assert registry.sockets == {}


def test_a_change_reaches_every_socket_of_its_tenant_and_no_other() -> None:
    service, registry, publisher, _ = _service()
    registry.add_connection(LiveConnection("a", "harbor", "user-1"), 0)
    registry.add_connection(LiveConnection("b", "harbor", "user-2"), 0)
    registry.add_connection(LiveConnection("c", "cedar", "user-9"), 0)
    delivered = service.announce([Change("harbor", "conv-1")])
    assert delivered == 2
    assert sorted(socket for socket, _ in publisher.frames) == ["a", "b"]


def test_a_gone_socket_is_forgotten_and_the_others_still_told() -> None:
    service, registry, publisher, _ = _service()
    registry.add_connection(LiveConnection("gone", "harbor", "user-1"), 0)
    registry.add_connection(LiveConnection("open", "harbor", "user-2"), 0)
    publisher.gone.add("gone")
    service.announce([Change("harbor", "conv-1")])
    assert set(registry.sockets) == {"open"}
    assert [socket for socket, _ in publisher.frames] == ["open"]


def test_a_throttled_socket_is_skipped_not_forgotten() -> None:
    service, registry, publisher, _ = _service()
    registry.add_connection(LiveConnection("busy", "harbor", "user-1"), 0)
    registry.add_connection(LiveConnection("open", "harbor", "user-2"), 0)
    publisher.failing.add("busy")
    service.announce([Change("harbor", "conv-1")])
    assert set(registry.sockets) == {"busy", "open"}
    assert [socket for socket, _ in publisher.frames] == ["open"]


def test_the_frame_names_only_the_conversation() -> None:
    service, registry, publisher, _ = _service()
    registry.add_connection(LiveConnection("a", "harbor", "user-1"), 0)
    service.announce([Change("harbor", "conv-1"), Change("harbor", "conv-1")])
    assert [json.loads(frame) for _, frame in publisher.frames] == [
        {"type": "changed", "conversation_id": "conv-1"}
    ]
    raw = b"".join(frame for _, frame in publisher.frames).decode()
    assert CLIENT_PHONE not in raw and BODY not in raw
