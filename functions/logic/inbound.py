"""Inbound texts: tenant by number -> keywords -> encrypt -> idempotent store -> replies.

Staff are told of a stored text off the request path (functions/logic/staff_alerts.py,
fed by the table's stream): the carrier's answer never waits for the notification. Pages
(a crisis text's flag, an after-hours text) go the same way: the transaction writes a
marker and the care pager pages from its stream record (functions/logic/care_pages.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum

from functions.carriers.models import InboundSms
from functions.core.clock import Clock, epoch_ms, expiry, iso
from functions.core.errors import (
    DuplicateError,
    KeyUnavailableError,
    NotFoundError,
    TenantUnavailableError,
)
from functions.core.ids import new_id
from functions.core.models import (
    Conversation,
    ConversationChange,
    Direction,
    Message,
    MessageRef,
    MessageStatus,
    Tenant,
)
from functions.core.observability import logger
from functions.crypto.contexts import body_location, phone_location
from functions.crypto.envelope import EncryptedRecord, EnvelopeCipher
from functions.logic.after_hours import after_hours_text, should_auto_reply
from functions.logic.care import CareService
from functions.logic.keywords import Keyword, classify, default_reply
from functions.logic.outbound import (
    SYSTEM_SENDER,
    SealedBody,
    enqueue_or_leave_for_sweeper,
    queued_message,
)
from functions.logic.ports import (
    RETRYABLE,
    MetricsSink,
    OutboundQueue,
    RecordingStore,
    RetryQueue,
)
from functions.logic.tenants import TenantDirectory


class InboundOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the carrier redelivered: stored once already
    UNKNOWN_NUMBER = "unknown_number"  # not one of ours (or a wiped tenant): nothing stored
    DEFERRED = "deferred"  # a dependency failed: parked on the retry queue, durable


RETRY_INBOUND = "inbound"


@dataclass(frozen=True)
class InboundResult:
    outcome: InboundOutcome
    ref: MessageRef | None = None
    keyword: Keyword | None = None
    replies: tuple[MessageRef, ...] = ()


def _parse_iso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass
class InboundService:
    directory: TenantDirectory
    store: RecordingStore
    cipher: EnvelopeCipher
    queue: OutboundQueue
    clock: Clock
    metrics: MetricsSink
    care: CareService | None = None  # business hours, on-call and the crisis safety net
    # Reads a stored text as an answer to a reminder (functions/logic/reminders.py).
    after_stored: Callable[[Tenant, str, str, Keyword | None], object] | None = None

    def receive_or_defer(self, sms: InboundSms, retry: RetryQueue) -> InboundResult:
        """Receive now, or park the message durably; either way the carrier may get a 2xx.

        If even the retry queue fails, the error propagates and the carrier retries
        (SNS/Lambda async retries into a DLQ; Twilio with its connection overrides).
        """
        try:
            return self.receive(sms)
        except RETRYABLE as error:
            retry.defer(RETRY_INBOUND, asdict(sms))
            self.metrics.count("InboundDeferred")
            logger.warning(
                "inbound deferred to the retry queue", extra={"error": type(error).__name__}
            )
            return InboundResult(InboundOutcome.DEFERRED)

    def receive(self, sms: InboundSms) -> InboundResult:
        """Store one inbound text. Raises on dependency faults (see receive_or_defer)."""
        try:
            tenant_id = self.directory.tenant_for_number(sms.to_number)
        except TenantUnavailableError:
            return self._unknown_number()
        try:
            return self._store(tenant_id, sms)
        except TenantUnavailableError:  # unknown or wiped profile
            return self._unknown_number()
        except KeyUnavailableError:
            # The tenant's key is disabled or pending deletion: it is being wiped.
            self.directory.forget(tenant_id)
            self.metrics.count("InboundForWipedTenant")
            return InboundResult(InboundOutcome.UNKNOWN_NUMBER)

    def _unknown_number(self) -> InboundResult:
        self.metrics.count("InboundUnknownNumber")
        return InboundResult(InboundOutcome.UNKNOWN_NUMBER)

    def _store(self, tenant_id: str, sms: InboundSms) -> InboundResult:
        # Three round trips on a warm instance, top to bottom: the tenant profile and the
        # conversation (one BatchGetItem), the data keys the write needs (one KMS wave: the
        # body, and a first contact's number and any reply with it), the transaction.
        # Staff hear of the text off this path, from the table's stream (staff_alerts.py).
        now = self.clock.now()
        message_id = new_id(epoch_ms(now))
        tenant, conversation_id, conversation = self._tenant_and_conversation(
            tenant_id, sms.from_number
        )
        keyword = classify(sms.body)
        opted_out = {Keyword.OPT_OUT: True, Keyword.OPT_IN: False}.get(keyword) if keyword else None
        reply_text, auto_reply = self._reply_for(tenant, conversation, keyword, now)
        crisis = (
            self.care.check(tenant, conversation, sms.body) if self.care and not keyword else None
        )
        if crisis and crisis.reply:  # crisis resources replace any after-hours reply
            reply_text, auto_reply = crisis.reply, False
        body, phone_record, replies = self._sealed(
            tenant,
            conversation_id,
            message_id,
            sms.body,
            new_number=sms.from_number if conversation is None else None,
            reply_text=reply_text,
        )
        message = self._inbound_message(tenant, conversation_id, message_id, body, sms, now)
        change = ConversationChange(
            business_number=sms.to_number,
            opted_out=opted_out,
            auto_reply_at=iso(now) if auto_reply else None,
            urgent_at=iso(now) if crisis and crisis.flag else None,
            # The care pager pages from this marker's stream record, off this path.
            page_after_hours=bool(
                self.care and crisis is None and self.care.wants_after_hours_page(tenant, now)
            ),
        )
        try:
            self.store.record_message(
                message, new_phone_record=phone_record, change=change, replies=replies
            )
        except DuplicateError:
            self.metrics.count("InboundDuplicate")
            return InboundResult(InboundOutcome.DUPLICATE)

        reply_refs = tuple(
            MessageRef(r.tenant_id, r.conversation_id, r.message_id) for r in replies
        )
        for ref in reply_refs:
            # Swallows its own fault: the message is stored, the carrier must not retry.
            enqueue_or_leave_for_sweeper(self.queue, self.metrics, ref)
        self.metrics.count("InboundStored")
        if self.after_stored is not None:
            self.after_stored(tenant, conversation_id, sms.body, keyword)
        if keyword:
            self.metrics.count(f"Keyword{keyword.name.title().replace('_', '')}")
        return InboundResult(
            InboundOutcome.STORED,
            MessageRef(tenant.tenant_id, conversation_id, message.message_id),
            keyword,
            reply_refs,
        )

    def _tenant_and_conversation(
        self, tenant_id: str, number: str
    ) -> tuple[Tenant, str, Conversation | None]:
        """The tenant, the number's conversation id, and the conversation (None: a first
        contact). The conversation id is the number's blind index under the tenant's key."""
        conversation_id = self.directory.known_conversation_id(tenant_id, number)
        if conversation_id is None:
            # A new instance unwraps the tenant's index key first (once per instance).
            tenant = self.directory.active_tenant(tenant_id)
            derived = self.directory.conversation_id_for(tenant, number)
            conversation = _unless_absent(lambda: self.store.get_conversation(tenant_id, derived))
            return tenant, derived, conversation
        read = self.store.tenant_and_conversation(tenant_id, conversation_id)
        tenant = self.directory.admit(read.tenant)
        return tenant, conversation_id, _unless_absent(read.conversation.get)

    def _sealed(
        self,
        tenant: Tenant,
        conversation_id: str,
        message_id: str,
        body: str,
        *,
        new_number: str | None,
        reply_text: str,
    ) -> tuple[EncryptedRecord, bytes | None, list[Message]]:
        """The body, a first contact's number and the reply, encrypted in one KMS wave.

        A data key per field, and only for the fields this text needs: never generated
        speculatively (a key per field costs KMS).
        """
        tenant_id = tenant.tenant_id
        fields = [(body_location(tenant_id, conversation_id, message_id), body)]
        if new_number is not None:
            fields.append((phone_location(tenant_id, conversation_id), new_number))
        # The reply's id is fixed first: its encryption context names it.
        reply_at = self.clock.now()
        reply_id = new_id(epoch_ms(reply_at))
        if reply_text:
            fields.append((body_location(tenant_id, conversation_id, reply_id), reply_text))
        records = iter(self.cipher.encrypt_many(fields))
        body_record = next(records)
        phone_record = next(records).to_bytes() if new_number is not None else None
        replies: list[Message] = []
        if reply_text:
            sealed = SealedBody(reply_id, reply_at, next(records).to_bytes())
            replies.append(
                queued_message(
                    self.cipher,
                    self.clock,
                    tenant=tenant,
                    conversation_id=conversation_id,
                    body=reply_text,
                    sent_by=SYSTEM_SENDER,
                    sealed=sealed,
                )
            )
        return body_record, phone_record, replies

    def _inbound_message(
        self,
        tenant: Tenant,
        conversation_id: str,
        message_id: str,
        body: EncryptedRecord,
        sms: InboundSms,
        now: datetime,
    ) -> Message:
        return Message(
            tenant_id=tenant.tenant_id,
            conversation_id=conversation_id,
            message_id=message_id,
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            body_record=body.to_bytes(),
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=expiry(now, tenant.retention_days),
            carrier=sms.carrier,
            carrier_message_id=sms.carrier_message_id,
        )

    def _reply_for(
        self,
        tenant: Tenant,
        conversation: Conversation | None,
        keyword: Keyword | None,
        now: datetime,
    ) -> tuple[str, bool]:
        """The reply text (or "") and whether it is the after-hours auto-reply."""
        settings = tenant.settings
        if keyword is not None:
            custom = {
                Keyword.OPT_OUT: settings.stop_reply,
                Keyword.OPT_IN: settings.start_reply,
                Keyword.HELP: settings.help_reply,
            }[keyword]
            return custom or default_reply(
                keyword, tenant.display_name, tenant.support_contact
            ), False
        if conversation is not None and conversation.opted_out:
            return "", False
        last = _parse_iso(conversation.last_auto_reply_at) if conversation else None
        if should_auto_reply(settings.after_hours, now, last):
            return after_hours_text(settings.after_hours, tenant.display_name), True
        return "", False


def _unless_absent(read: Callable[[], Conversation]) -> Conversation | None:
    try:
        return read()
    except NotFoundError:
        return None  # a first contact
