"""Live updates: which staff have an inbox open, and telling them (ids only) that a
conversation changed, so the app fetches it through the API within a second or two.

The push carries no PHI: `{"type": "changed", "conversation_id": ...}` where the id is a
blind index. What changed is read through the staff API, which checks the session, the
conversation's visibility and audits the read, exactly as any other read.

A socket authenticates with its first frame, a ticket: random, single use, valid for
`TICKET_SECONDS`, issued by the staff API to a signed-in user. Neither the ticket nor an
access token ever goes into the socket's URL (access logs record URLs).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from functions.core.clock import Clock
from functions.core.errors import DependencyError, ThrottledError
from functions.core.observability import logger
from functions.logic.access import Principal

TICKET_SECONDS = 30
# API Gateway closes a WebSocket after 2 hours at most; the item outlives it a little, so
# TTL removes the record of a socket whose $disconnect was lost.
CONNECTION_SECONDS = 2 * 3600 + 600


@dataclass(frozen=True)
class LiveConnection:
    connection_id: str
    tenant_id: str
    user_id: str


@dataclass(frozen=True)
class Change:
    """Something staff should re-fetch: a conversation of a tenant."""

    tenant_id: str
    conversation_id: str


class LiveRegistry(Protocol):
    """Tickets and open sockets (functions/dal/live.py)."""

    def put_ticket(self, digest: str, tenant_id: str, user_id: str, expires_at: int) -> None: ...

    def take_ticket(self, digest: str) -> tuple[str, str, int] | None:
        """Remove the ticket and answer (tenant, user, expiry); None if there was none."""
        ...

    def add_connection(self, connection: LiveConnection, expires_at: int) -> None: ...

    def connections(self, tenant_id: str) -> list[LiveConnection]: ...

    def remove_connection(self, connection_id: str) -> None: ...


class LivePublisher(Protocol):
    """Sends a frame down one socket (API Gateway's PostToConnection, or local mode's)."""

    def post(self, connection_id: str, payload: bytes) -> bool:
        """False when the socket is gone (it is then forgotten)."""
        ...

    def close(self, connection_id: str) -> None: ...


def changed_frame(conversation_id: str) -> bytes:
    """The only thing a push ever says: which conversation to re-fetch."""
    return json.dumps({"type": "changed", "conversation_id": conversation_id}).encode()


def _digest(ticket: str) -> str:
    # Stored hashed: a read of the table cannot be replayed as a ticket.
    return hashlib.sha256(ticket.encode()).hexdigest()


@dataclass
class LiveService:
    registry: LiveRegistry
    publisher: LivePublisher
    clock: Clock

    def ticket(self, principal: Principal) -> str:
        """A single-use ticket for this user's next socket."""
        ticket = secrets.token_urlsafe(32)
        expires = int(self.clock.now().timestamp()) + TICKET_SECONDS
        self.registry.put_ticket(_digest(ticket), principal.tenant_id, principal.user_id, expires)
        return ticket

    def authenticate(self, connection_id: str, ticket: str) -> bool:
        """Bind the socket to the ticket's user; a bad, used or stale ticket closes it."""
        taken = self.registry.take_ticket(_digest(ticket)) if ticket else None
        now = int(self.clock.now().timestamp())
        if taken is None or taken[2] < now:
            self.publisher.close(connection_id)
            return False
        tenant_id, user_id, _ = taken
        connection = LiveConnection(connection_id, tenant_id, user_id)
        self.registry.add_connection(connection, now + CONNECTION_SECONDS)
        return True

    def disconnect(self, connection_id: str) -> None:
        self.registry.remove_connection(connection_id)

    def announce(self, changes: Iterable[Change]) -> int:
        """Tell every open socket of each change's tenant; forget the ones that are gone.
        Returns how many frames were delivered."""
        by_tenant: dict[str, list[str]] = {}
        for change in changes:
            ids = by_tenant.setdefault(change.tenant_id, [])
            if change.conversation_id and change.conversation_id not in ids:
                ids.append(change.conversation_id)
        delivered = 0
        for tenant_id, conversation_ids in by_tenant.items():
            delivered += self._tell(self.registry.connections(tenant_id), conversation_ids)
        return delivered

    def _tell(self, sockets: Sequence[LiveConnection], conversation_ids: Sequence[str]) -> int:
        delivered = 0
        for socket in sockets:
            for conversation_id in conversation_ids:
                try:
                    posted = self.publisher.post(
                        socket.connection_id, changed_frame(conversation_id)
                    )
                except (DependencyError, ThrottledError) as error:
                    # Not retried: the app's fallback poll, or the next change, covers it.
                    logger.warning("live push failed", extra={"error": type(error).__name__})
                    break
                if not posted:
                    self.registry.remove_connection(socket.connection_id)
                    logger.info("live socket gone; forgotten")
                    break
                delivered += 1
        return delivered
