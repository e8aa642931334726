"""Outbound texts: accept (consent, opt-out, encrypt, store queued, enqueue) and send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from functions.carriers.models import Carrier, OutboundSms
from functions.core.clock import Clock, epoch_ms, expiry, iso
from functions.core.errors import (
    CryptoError,
    NotFoundError,
    PermanentCarrierError,
    QuietlineError,
    TenantUnavailableError,
)
from functions.core.ids import new_id
from functions.core.models import (
    Conversation,
    Direction,
    Message,
    MessageKind,
    MessageRef,
    MessageStatus,
    Tenant,
)
from functions.core.observability import logger
from functions.crypto.contexts import body_location, phone_location, sms_text_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.consent import check_can_send_plain_sms, check_can_send_secure_link
from functions.logic.ports import (
    ConversationRead,
    MetricsSink,
    OutboundQueue,
    RecordingStore,
    SendingStore,
)
from functions.logic.segments import count_segments, validate_body_length
from functions.logic.tenants import TenantDirectory


class SecureLinkIssuer(Protocol):
    """Creates a secure link for a message and returns the notice to text instead."""

    def issue(self, tenant: Tenant, conversation_id: str, message_id: str) -> str: ...


SYSTEM_SENDER = "system"  # keyword and after-hours replies: fixed practice wording, no PHI


@dataclass(frozen=True)
class SealedBody:
    """An outbound body encrypted before the message is built (with other fields in one
    KMS wave): its id and time are fixed first, since the encryption context names it."""

    message_id: str
    created: datetime
    record: bytes


def queued_message(
    cipher: EnvelopeCipher,
    clock: Clock,
    *,
    tenant: Tenant,
    conversation_id: str,
    body: str,
    sent_by: str,
    sms_text: Callable[[str], str] | None = None,
    sealed: SealedBody | None = None,
    kind: MessageKind = MessageKind.PLAIN,
) -> Message:
    """An encrypted outbound message in `queued`, with its segment count recorded.

    `sms_text(message_id)`, when given, is what gets texted instead of the body (a
    secure-link notice); segments are counted on what is actually sent. The body and
    the notice are encrypted in one KMS wave, after the message's id is fixed (the
    encryption context names it). `sealed` is the body already encrypted (e.g. in the
    wave of the inbound text it answers).
    """
    tenant_id = tenant.tenant_id
    if sealed is None:
        now = clock.now()
        message_id = new_id(epoch_ms(now))
    else:
        message_id, now = sealed.message_id, sealed.created
    texted = sms_text(message_id) if sms_text else body
    fields = [] if sealed else [(body_location(tenant_id, conversation_id, message_id), body)]
    if sms_text:
        fields.append((sms_text_location(tenant_id, conversation_id, message_id), texted))
    records = [record.to_bytes() for record in cipher.encrypt_many(fields)]
    body_record = sealed.record if sealed else records.pop(0)
    segments = count_segments(texted)
    return Message(
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        message_id=message_id,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        body_record=body_record,
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=expiry(now, tenant.retention_days),
        segments=segments.segments,
        encoding=segments.encoding,
        sent_by=sent_by,
        sms_text_record=records[0] if sms_text else None,
        kind=kind,
    )


def enqueue_or_leave_for_sweeper(
    queue: OutboundQueue, metrics: MetricsSink, ref: MessageRef
) -> None:
    """The message is already stored as queued; if the queue is down, the sweeper re-drives it."""
    try:
        queue.enqueue(ref)
    except QuietlineError as error:
        metrics.count("OutboundEnqueueFailed")
        logger.warning(
            "enqueue failed; the sweeper will retry", extra={"error": type(error).__name__}
        )


@dataclass
class OutboundService:
    directory: TenantDirectory
    store: RecordingStore
    cipher: EnvelopeCipher
    queue: OutboundQueue
    clock: Clock
    metrics: MetricsSink

    def accept(
        self,
        *,
        tenant_id: str,
        conversation_id: str,
        body: str,
        sent_by: str,
        secure_link: SecureLinkIssuer | None = None,
    ) -> Message:
        """Validate, check consent and opt-out, encrypt, store as queued, enqueue."""
        read = self.store.tenant_and_conversation(tenant_id, conversation_id)
        return self.accept_read(read, body=body, sent_by=sent_by, secure_link=secure_link)

    def accept_read(
        self,
        read: ConversationRead,
        *,
        body: str,
        sent_by: str,
        secure_link: SecureLinkIssuer | None = None,
        authorize: Callable[[Conversation], object] | None = None,
    ) -> Message:
        """`accept`, on a tenant and conversation the caller has read (with its session).

        Plain SMS needs the client's plain_sms consent; with `secure_link` the text says
        only that a secure message is waiting, so only an opt-out stops it. `authorize`
        (the caller's visibility check) sees the conversation before anything else is
        decided. Every check that can refuse the send comes before the first data key:
        a refused send leaves no GenerateDataKey in CloudTrail. Raises OptedOutError /
        ConsentRequiredError before anything is stored.
        """
        conversation = read.conversation.get()
        if authorize is not None:
            authorize(conversation)
        tenant = self.directory.admit(read.tenant)
        validate_body_length(body, tenant.settings.max_body_chars)
        if secure_link is None:
            check_can_send_plain_sms(conversation.consent, conversation.opted_out)
        else:
            check_can_send_secure_link(conversation.opted_out)
        conversation_id = conversation.conversation_id
        message = queued_message(
            self.cipher,
            self.clock,
            tenant=tenant,
            conversation_id=conversation_id,
            body=body,
            sent_by=sent_by,
            sms_text=(
                (lambda message_id: secure_link.issue(tenant, conversation_id, message_id))
                if secure_link
                else None
            ),
            kind=MessageKind.SECURE_LINK if secure_link else MessageKind.PLAIN,
        )
        self.store.record_message(message)
        ref = MessageRef(tenant.tenant_id, conversation_id, message.message_id)
        enqueue_or_leave_for_sweeper(self.queue, self.metrics, ref)
        self.metrics.count("OutboundAccepted")
        return message


class SendOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # already sent/failed, or gone: a repeated queue delivery


class SendInProgressError(QuietlineError):
    """Another sender holds this message's lease; retry after it expires."""


@dataclass
class SenderService:
    directory: TenantDirectory
    store: SendingStore
    cipher: EnvelopeCipher
    carrier: Carrier
    clock: Clock
    metrics: MetricsSink
    lease: timedelta = timedelta(seconds=90)

    def send(self, ref: MessageRef) -> SendOutcome:
        """Send one queued message. TransientCarrierError and AWS faults propagate: retry."""
        now = self.clock.now()
        # The claim returns the message; the tenant and conversation are read alongside it
        # (one round trip) and count only once the message is ours to send.
        read = self.store.claim_with_context(ref, now=iso(now), lease_until=iso(now + self.lease))
        claimed = read.claimed.get()
        if claimed is None:
            return self._not_claimed(ref)
        message = claimed
        try:
            tenant = self.directory.admit(read.context.tenant)
            conversation = read.context.conversation.get()
            # An opt-out takes effect before the next send; only the STOP/HELP replies
            # (fixed wording, no PHI) may still go to an opted-out number.
            if conversation.opted_out and message.sent_by != SYSTEM_SENDER:
                return self._fail(ref, "opted_out")
            # A secure-link message texts its notice, never the body.
            texted = (
                (sms_text_location(*_ids(ref)), message.sms_text_record)
                if message.sms_text_record
                else (body_location(*_ids(ref)), message.body_record)
            )
            body, phone = self.cipher.decrypt_many(
                [
                    texted,
                    (phone_location(ref.tenant_id, ref.conversation_id), conversation.phone_record),
                ]
            )
        except TenantUnavailableError:
            return self._fail(ref, "tenant_unavailable")
        except CryptoError as error:
            self.metrics.count("SendDecryptFailed")
            return self._fail(ref, f"decrypt:{type(error).__name__}")
        origination = conversation.business_number or (tenant.business_numbers or ("",))[0]
        sms = OutboundSms(origination, phone, body, ref.token(), ref.tenant_id)
        try:
            result = self.carrier.send(sms)
        except PermanentCarrierError as error:
            if error.recipient_opted_out:
                self.store.set_opted_out(ref.tenant_id, ref.conversation_id, True, iso(now))
            return self._fail(ref, error.reason)
        self.store.advance_status(
            ref,
            MessageStatus.SENT,
            at=iso(self.clock.now()),
            carrier=self.carrier.name,
            carrier_message_id=result.carrier_message_id,
        )
        self.metrics.count("OutboundSent")
        return SendOutcome.SENT

    def _not_claimed(self, ref: MessageRef) -> SendOutcome:
        """Sent, failed, gone, or leased by another sender (the only case to retry)."""
        try:
            message = self.store.get_message(ref)
        except NotFoundError:
            self.metrics.count("SendForUnknownMessage")
            return SendOutcome.SKIPPED
        if message.status is not MessageStatus.QUEUED:
            return SendOutcome.SKIPPED
        raise SendInProgressError("message is leased by another sender")

    def _fail(self, ref: MessageRef, reason: str) -> SendOutcome:
        self.store.advance_status(
            ref, MessageStatus.FAILED, at=iso(self.clock.now()), failure_reason=reason[:100]
        )
        self.metrics.count("OutboundFailed")
        return SendOutcome.FAILED


def _ids(ref: MessageRef) -> tuple[str, str, str]:
    return ref.tenant_id, ref.conversation_id, ref.message_id
