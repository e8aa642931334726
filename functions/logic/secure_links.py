"""Secure messages for clients: the text carries only a link; the client proves who they
are with a one-time code sent to their phone before the message shows.

The link token is 192 random bits and single-use: it expires (default 72 h), a code can
open it once, and wrong codes lock it after `max_attempts`. Only hashes of the token, the
code and the client's session are stored. Every view, reply and failure is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from functions.carriers.models import InboundSms
from functions.core.clock import Clock, iso
from functions.core.errors import (
    InvalidCodeError,
    LinkLockedError,
    LinkUnavailableError,
    ValidationError,
)
from functions.core.models import MessageKind, MessageRef, SecureLink, Tenant
from functions.crypto.contexts import body_location, phone_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.inbound import InboundService
from functions.logic.outbound import (
    SYSTEM_SENDER,
    enqueue_or_leave_for_sweeper,
    queued_message,
)
from functions.logic.ports import (
    ConversationReader,
    MessageReader,
    MessageRecorder,
    MetricsSink,
    OutboundQueue,
)
from functions.logic.segments import validate_body_length
from functions.logic.tenants import TenantDirectory

SECURE_LINK_CARRIER = "secure_link"  # replies from the page land in the thread like texts


class SecureLinkRepository(Protocol):
    """Secure-link state, keyed by the token's hash; each change is conditional."""

    def create(self, link: SecureLink) -> None: ...

    def get(self, token_hash: str) -> SecureLink: ...

    def set_code(
        self, token_hash: str, code_hash: str, code_expires: int, *, max_codes: int
    ) -> bool: ...

    def claim_attempt(self, token_hash: str, *, max_attempts: int) -> int | None: ...

    def lock(self, token_hash: str) -> None: ...

    def start_session(
        self, token_hash: str, code_hash: str, session_hash: str, session_expires: int
    ) -> bool: ...


class SecureLinkMessages(ConversationReader, MessageReader, MessageRecorder, Protocol):
    """What the client's side reads and writes: the message, its thread, code texts."""

    def mark_opened(self, ref: MessageRef, at: str) -> bool:
        """Record the client's first opening of a secure message (False: opened before)."""
        ...


# What the staff thread shows for a code text: the code itself is only in the encrypted
# copy the sender texts, which is removed once it is sent (#15: staff never see codes).
CODE_SENT_MARKER = "One-time code texted for the secure link (codes are never shown to staff)."


def _hash(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class SecureLinkPolicy:
    link_ttl: timedelta = timedelta(hours=72)
    code_ttl: timedelta = timedelta(minutes=10)
    session_ttl: timedelta = timedelta(minutes=15)
    max_attempts: int = 5
    max_codes: int = 3


@dataclass(frozen=True)
class SecureView:
    practice: str
    body: str
    sent_at: str


@dataclass
class SecureLinkService:
    links: SecureLinkRepository
    store: SecureLinkMessages
    directory: TenantDirectory
    cipher: EnvelopeCipher
    queue: OutboundQueue
    inbound: InboundService
    audit: AuditSink
    metrics: MetricsSink
    clock: Clock
    base_url: str
    policy: SecureLinkPolicy = SecureLinkPolicy()

    # --- issuing (implements functions.logic.outbound.SecureLinkIssuer) -------------------
    def issue(self, tenant: Tenant, conversation_id: str, message_id: str) -> str:
        token = secrets.token_urlsafe(24)
        expires = int((self.clock.now() + self.policy.link_ttl).timestamp())
        self.links.create(
            SecureLink(_hash(token), tenant.tenant_id, conversation_id, message_id, expires)
        )
        # The token rides in the fragment, which browsers never send: no CDN, proxy or
        # server log along the way records it (the page hands it to the API itself).
        return (
            f"New secure message from {tenant.display_name}: {self.base_url.rstrip('/')}/s#{token}"
        )

    # --- the client's side ---------------------------------------------------------------
    def _live(self, token: str) -> SecureLink:
        link = self.links.get(_hash(token))
        if link.locked:
            raise LinkLockedError("link locked")
        if link.expires_at <= self.clock.now().timestamp():
            raise LinkUnavailableError("link expired")
        return link

    def _event(self, link: SecureLink, action: str, outcome: Outcome) -> None:
        self.audit.record(
            AuditEvent(
                action,
                outcome,
                f"client:{link.conversation_id}",
                link.tenant_id,
                iso(self.clock.now()),
                target={"conversation_id": link.conversation_id, "message_id": link.message_id},
            )
        )

    def challenge(self, token: str) -> str:
        """Text a one-time code to the client's number; returns the method used."""
        link = self._live(token)
        tenant = self.directory.active_tenant(link.tenant_id)
        code = f"{secrets.randbelow(1_000_000):06d}"
        expires = int((self.clock.now() + self.policy.code_ttl).timestamp())
        if not self.links.set_code(
            link.token_hash, _hash(link.token_hash, code), expires, max_codes=self.policy.max_codes
        ):
            raise LinkLockedError("no more codes for this link")
        minutes = int(self.policy.code_ttl.total_seconds() // 60)
        text = (
            f"Your code for the secure message from {tenant.display_name} is {code}. "
            f"It expires in {minutes} minutes."
        )
        message = queued_message(
            self.cipher,
            self.clock,
            tenant=tenant,
            conversation_id=link.conversation_id,
            body=CODE_SENT_MARKER,
            sent_by=SYSTEM_SENDER,
            sms_text=lambda _message_id: text,
            kind=MessageKind.VERIFICATION_CODE,
        )
        self.store.record_message(message)
        enqueue_or_leave_for_sweeper(
            self.queue,
            self.metrics,
            MessageRef(link.tenant_id, link.conversation_id, message.message_id),
        )
        self._event(link, "secure_message.code_sent", Outcome.SUCCESS)
        return "sms_code"

    def verify(self, token: str, code: str) -> str:
        """Exchange the code for a short session; wrong codes count toward the lock.

        The attempt is counted before the code is compared (one conditional write), so
        guesses racing from many instances get `max_attempts` comparisons between them.
        """
        link = self._live(token)
        attempt = self.links.claim_attempt(link.token_hash, max_attempts=self.policy.max_attempts)
        if attempt is None:
            self._event(link, "secure_message.verify_refused", Outcome.DENIED)
            raise LinkLockedError("no attempts left")
        offered = _hash(link.token_hash, code.strip())
        now = self.clock.now().timestamp()
        if (
            link.code_hash
            and link.code_expires > now
            and hmac.compare_digest(offered, link.code_hash)
        ):
            session = secrets.token_urlsafe(32)
            expires = int((self.clock.now() + self.policy.session_ttl).timestamp())
            # Spends the code and hands the attempt back, unless the link locked meanwhile.
            if self.links.start_session(link.token_hash, link.code_hash, _hash(session), expires):
                self._event(link, "secure_message.verified", Outcome.SUCCESS)
                return session
        self._event(link, "secure_message.verify_failed", Outcome.DENIED)
        self.metrics.count("SecureLinkCodeRejected")
        if attempt >= self.policy.max_attempts:
            self.links.lock(link.token_hash)
            raise LinkLockedError("link locked")
        raise InvalidCodeError(self.policy.max_attempts - attempt)

    def _session(self, token: str, session: str) -> SecureLink:
        link = self._live(token)
        if not (
            link.session_hash
            and hmac.compare_digest(link.session_hash, _hash(session or "-"))
            and link.session_expires > self.clock.now().timestamp()
        ):
            self._event(link, "secure_message.view", Outcome.DENIED)
            raise InvalidCodeError(max(0, self.policy.max_attempts - link.failures))
        return link

    def read(self, token: str, session: str) -> SecureView:
        link = self._session(token, session)
        tenant = self.directory.active_tenant(link.tenant_id)
        ref = MessageRef(link.tenant_id, link.conversation_id, link.message_id)
        message = self.store.get_message(ref)
        body = self.cipher.decrypt(
            body_location(link.tenant_id, link.conversation_id, link.message_id),
            message.body_record,
        )
        if message.opened_at is None:
            self.store.mark_opened(ref, iso(self.clock.now()))  # the inbox shows "opened"
        self._event(link, "secure_message.view", Outcome.SUCCESS)
        return SecureView(tenant.display_name, body, message.created_at)

    def reply(self, token: str, session: str, body: str) -> None:
        """The reply lands in the thread like an SMS from the client's number."""
        link = self._session(token, session)
        tenant = self.directory.active_tenant(link.tenant_id)
        if not body.strip():
            raise ValidationError("body", "must not be empty")
        validate_body_length(body, tenant.settings.max_body_chars)
        conversation = self.store.get_conversation(link.tenant_id, link.conversation_id)
        phone = self.cipher.decrypt(
            phone_location(link.tenant_id, link.conversation_id), conversation.phone_record
        )
        number = conversation.business_number or tenant.business_numbers[0]
        self.inbound.receive(
            InboundSms(
                SECURE_LINK_CARRIER,
                f"reply-{secrets.token_hex(12)}",
                phone,
                number,
                body,
                iso(self.clock.now()),
            )
        )
        self._event(link, "secure_message.reply", Outcome.SUCCESS)
