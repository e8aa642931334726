"""Scheduled messages: staff schedule, list and cancel them; the sweep sends what is due.

The sweep runs every minute (a scheduled Lambda; local mode's worker or its clock
endpoint) and sends each due schedule through the outbound path (queued_message ->
store -> SQS -> sender), checking opt-out, consent and quiet hours again at send time.
Exactly once: the message's put and the schedule's pending -> sent commit in one
conditional transaction (functions/dal/store/schedules.py); a fault before it leaves the
due pointer for the next sweep, and a schedule that keeps failing is marked failed and
counted (ScheduledSendFailed, alarmed). docs/scheduling.md argues the mechanism.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from functions.core.clock import Clock, epoch_ms, expiry, iso
from functions.core.errors import (
    ConflictError,
    ConsentRequiredError,
    NotFoundError,
    OptedOutError,
    QuietlineError,
    TenantUnavailableError,
    ValidationError,
)
from functions.core.ids import new_id
from functions.core.models import Conversation, MessageRef, Tenant
from functions.core.observability import logger
from functions.core.schedule import (
    Appointment,
    AppointmentStatus,
    ScheduledMessage,
    ScheduleKind,
    ScheduleStatus,
    SchedulingConfig,
    parse_local,
    parse_utc,
    quiet_until,
)
from functions.crypto.contexts import body_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, can_see
from functions.logic.consent import check_can_send_plain_sms, check_can_send_secure_link
from functions.logic.outbound import (
    SealedBody,
    SecureLinkIssuer,
    enqueue_or_leave_for_sweeper,
    queued_message,
)
from functions.logic.ports import ConversationRead, MetricsSink, OutboundQueue
from functions.logic.segments import validate_body_length
from functions.logic.tenants import TenantDirectory

MAX_AHEAD = timedelta(days=400)


class ScheduleStore(Protocol):
    """What scheduling needs of the table (functions/dal/store/schedules.py)."""

    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead: ...
    def put_schedule(self, schedule: ScheduledMessage) -> None: ...
    def get_schedule(
        self, tenant_id: str, conversation_id: str, schedule_id: str
    ) -> ScheduledMessage: ...
    def list_schedules(self, tenant_id: str, conversation_id: str) -> list[ScheduledMessage]: ...
    def due_pointers(self, now: str, *, limit: int = 100) -> list[tuple[str, str, str]]: ...
    def complete_send(
        self,
        schedule: ScheduledMessage,
        message: Any,
        *,
        at: str,
        awaiting_until: str | None = None,
    ) -> None: ...
    def settle_schedule(
        self, schedule: ScheduledMessage, status: ScheduleStatus, *, at: str, reason: str
    ) -> None: ...
    def defer_schedule(self, schedule: ScheduledMessage, new_due: str) -> None: ...
    def note_attempt(self, schedule: ScheduledMessage, reason: str) -> int: ...
    def get_appointment(self, tenant_id: str, appointment_id: str) -> Appointment: ...
    def get_scheduling_config(self, tenant_id: str) -> SchedulingConfig: ...


@dataclass(frozen=True)
class ScheduleView:
    schedule_id: str
    kind: str
    due_at: str  # UTC
    due_local: str  # the practice's wall clock, as staff entered it
    status: str
    body: str | None = None
    reason: str | None = None
    appointment_id: str | None = None


def visible_conversation(
    directory: TenantDirectory, principal: Principal, read: ConversationRead
) -> tuple[Tenant, Conversation]:
    """Session, tenant and the conversation's visibility, checked in that order."""
    principal.settle_session(read.session)
    tenant = directory.admit(read.tenant)
    conversation = read.conversation.get()
    if not can_see(principal, conversation):
        raise NotFoundError("conversation not found")  # as if it did not exist
    return tenant, conversation


def seal_schedule(
    cipher: EnvelopeCipher,
    *,
    tenant: Tenant,
    conversation_id: str,
    kind: ScheduleKind,
    due: datetime,
    body: str,
    created_by: str,
    now: datetime,
    appointment_id: str | None = None,
) -> ScheduledMessage:
    """A pending schedule whose body is sealed under the message id it will send as
    (a ULID of its due time, so the message sorts in the thread when it is sent)."""
    message_id = new_id(epoch_ms(due))
    record = cipher.encrypt(body_location(tenant.tenant_id, conversation_id, message_id), body)
    return ScheduledMessage(
        tenant_id=tenant.tenant_id,
        conversation_id=conversation_id,
        schedule_id=new_id(epoch_ms(now)),
        message_id=message_id,
        kind=kind,
        due_at=iso(due),
        body_record=record.to_bytes(),
        created_by=created_by,
        created_at=iso(now),
        # Kept as long as its message would be, counted from when it is due.
        expires_at=expiry(due, tenant.retention_days),
        appointment_id=appointment_id,
    )


@dataclass
class ScheduleService:
    """Staff's side: schedule a text or a secure link, see and cancel pending ones."""

    directory: TenantDirectory
    store: ScheduleStore
    cipher: EnvelopeCipher
    clock: Clock
    reads: Any  # StaffReads: the session touch rides with the first read

    def _read(self, principal: Principal, conversation_id: str) -> tuple[Tenant, Conversation]:
        read = self.reads.conversation(
            principal.tenant_id, conversation_id, session=principal.session_to_send()
        )
        return visible_conversation(self.directory, principal, read)

    def schedule(
        self,
        principal: Principal,
        conversation_id: str,
        *,
        send_at: str,
        body: str,
        secure_link: bool = False,
    ) -> ScheduleView:
        tenant, conversation = self._read(principal, conversation_id)
        validate_body_length(body, tenant.settings.max_body_chars)
        if not body.strip():
            raise ValidationError("body", "is required")
        # Refused now when it would be refused at send time anyway (checked again then).
        if secure_link:
            check_can_send_secure_link(conversation.opted_out)
        else:
            check_can_send_plain_sms(conversation.consent, conversation.opted_out)
        config = self.store.get_scheduling_config(tenant.tenant_id)
        now = self.clock.now()
        due = parse_local(send_at, config.zone())
        if due <= now:
            raise ValidationError("send_at", "must be in the future")
        if due > now + MAX_AHEAD:
            raise ValidationError("send_at", "must be within 400 days")
        schedule = seal_schedule(
            self.cipher,
            tenant=tenant,
            conversation_id=conversation.conversation_id,
            kind=ScheduleKind.SECURE_LINK if secure_link else ScheduleKind.TEXT,
            due=due,
            body=body,
            created_by=principal.user_id,
            now=now,
        )
        self.store.put_schedule(schedule)
        return _view(schedule, config, body)

    def list_pending(self, principal: Principal, conversation_id: str) -> list[ScheduleView]:
        """The thread's schedules still to send, soonest first, with their bodies."""
        tenant, conversation = self._read(principal, conversation_id)
        pending = sorted(
            (
                s
                for s in self.store.list_schedules(tenant.tenant_id, conversation.conversation_id)
                if s.status is ScheduleStatus.PENDING
            ),
            key=lambda s: s.due_at,
        )
        bodies = self.cipher.decrypt_many(
            [
                (body_location(s.tenant_id, s.conversation_id, s.message_id), s.body_record)
                for s in pending
            ]
        )
        config = self.store.get_scheduling_config(tenant.tenant_id)
        return [_view(s, config, b) for s, b in zip(pending, bodies, strict=True)]

    def cancel(self, principal: Principal, conversation_id: str, schedule_id: str) -> None:
        tenant, conversation = self._read(principal, conversation_id)
        schedule = self.store.get_schedule(
            tenant.tenant_id, conversation.conversation_id, schedule_id
        )
        if schedule.status is not ScheduleStatus.PENDING:
            raise ConflictError("schedule is no longer pending")
        self.store.settle_schedule(
            schedule, ScheduleStatus.CANCELLED, at=iso(self.clock.now()), reason="by_staff"
        )


def _view(schedule: ScheduledMessage, config: SchedulingConfig, body: str | None) -> ScheduleView:
    local = parse_utc(schedule.due_at).astimezone(config.zone())
    return ScheduleView(
        schedule.schedule_id,
        schedule.kind.value,
        schedule.due_at,
        local.strftime("%Y-%m-%dT%H:%M"),
        schedule.status.value,
        body,
        schedule.reason,
        schedule.appointment_id,
    )


@dataclass
class SweepResult:
    sent: int = 0
    skipped: int = 0
    deferred: int = 0
    retrying: int = 0
    failed: int = 0
    raced: int = 0


@dataclass
class DueSweep:
    """Sends every schedule due by now; see the module docstring for the guarantees."""

    directory: TenantDirectory
    store: ScheduleStore
    cipher: EnvelopeCipher
    queue: OutboundQueue
    clock: Clock
    metrics: MetricsSink
    secure_links: Callable[[], SecureLinkIssuer] | None = None
    max_attempts: int = 5
    batch: int = 100
    counts: SweepResult = field(default_factory=SweepResult)
    # Local mode sweeps from a timer and from its clock route: one at a time per instance.
    _running: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def sweep(self) -> SweepResult:
        with self._running:
            return self._sweep()

    def _sweep(self) -> SweepResult:
        self.counts = SweepResult()
        now = self.clock.now()
        for ids in self.store.due_pointers(iso(now), limit=self.batch):
            try:
                self._send_one(*ids, now=now)
            except Exception as error:
                self._attempt_failed(ids, error)
        for name, value in vars(self.counts).items():
            if value:
                self.metrics.count(f"Scheduled{name.title()}", value)
        return self.counts

    def _attempt_failed(self, ids: tuple[str, str, str], error: Exception) -> None:
        """The pointer stays: the next sweep retries, until max_attempts marks it failed."""
        reason = type(error).__name__
        logger.warning("scheduled send failed; will retry", extra={"error": reason})
        try:
            schedule = self.store.get_schedule(*ids)
            attempts = self.store.note_attempt(schedule, reason)
            if attempts >= self.max_attempts:
                self.store.settle_schedule(
                    schedule, ScheduleStatus.FAILED, at=iso(self.clock.now()), reason=reason
                )
                self.counts.failed += 1
                return
        except QuietlineError:
            pass  # the table itself is failing: the pointer is still there
        self.counts.retrying += 1

    def _send_one(  # noqa: PLR0911 - each refusal settles and returns where it is decided
        self, tenant_id: str, conversation_id: str, schedule_id: str, *, now: datetime
    ) -> None:
        schedule = self.store.get_schedule(tenant_id, conversation_id, schedule_id)
        if schedule.status is not ScheduleStatus.PENDING:
            self.counts.raced += 1  # settled by a sweep that overlapped this one
            return
        read = self.store.tenant_and_conversation(tenant_id, conversation_id)
        try:
            tenant = self.directory.admit(read.tenant)
            conversation = read.conversation.get()
        except (TenantUnavailableError, NotFoundError):
            return self._settle(schedule, ScheduleStatus.SKIPPED, "conversation_gone", now)
        config = self.store.get_scheduling_config(tenant_id)
        appointment = self._appointment(schedule)
        if schedule.kind is ScheduleKind.REMINDER and (
            appointment is None
            or appointment.status is AppointmentStatus.CANCELLED
            or appointment.start_at <= iso(now)
        ):
            return self._settle(schedule, ScheduleStatus.SKIPPED, "appointment_changed", now)
        quiet_end = quiet_until(now, config)
        if quiet_end is not None:
            if appointment is not None and iso(quiet_end) >= appointment.start_at:
                return self._settle(schedule, ScheduleStatus.SKIPPED, "quiet_hours", now)
            self.store.defer_schedule(schedule, iso(quiet_end))
            self.counts.deferred += 1
            return None
        try:
            if schedule.kind is ScheduleKind.SECURE_LINK:
                check_can_send_secure_link(conversation.opted_out)
            else:
                check_can_send_plain_sms(conversation.consent, conversation.opted_out)
        except (OptedOutError, ConsentRequiredError) as refused:
            reason = "opted_out" if isinstance(refused, OptedOutError) else "consent_required"
            return self._settle(schedule, ScheduleStatus.SKIPPED, reason, now)
        self._send(tenant, schedule, appointment, now)
        return None

    def _appointment(self, schedule: ScheduledMessage) -> Appointment | None:
        if not schedule.appointment_id:
            return None
        try:
            return self.store.get_appointment(schedule.tenant_id, schedule.appointment_id)
        except NotFoundError:
            return None

    def _send(
        self,
        tenant: Tenant,
        schedule: ScheduledMessage,
        appointment: Appointment | None,
        now: datetime,
    ) -> None:
        ids = (schedule.tenant_id, schedule.conversation_id, schedule.message_id)
        body = self.cipher.decrypt(body_location(*ids), schedule.body_record)
        issuer = self.secure_links() if self.secure_links else None
        if schedule.kind is ScheduleKind.SECURE_LINK and issuer is None:
            raise ValidationError("kind", "secure links are not configured")
        message = queued_message(
            self.cipher,
            self.clock,
            tenant=tenant,
            conversation_id=schedule.conversation_id,
            body=body,
            sent_by=schedule.created_by,
            sms_text=(
                (lambda mid: issuer.issue(tenant, schedule.conversation_id, mid))
                if schedule.kind is ScheduleKind.SECURE_LINK and issuer
                else None
            ),
            sealed=SealedBody(schedule.message_id, now, schedule.body_record),
        )
        try:
            self.store.complete_send(
                schedule,
                message,
                at=iso(now),
                awaiting_until=appointment.start_at if appointment else None,
            )
        except ConflictError:
            self.counts.raced += 1  # another sweep sent it, or staff cancelled it just now
            return
        enqueue_or_leave_for_sweeper(self.queue, self.metrics, MessageRef(*ids))
        self.counts.sent += 1

    def _settle(
        self, schedule: ScheduledMessage, status: ScheduleStatus, reason: str, now: datetime
    ) -> None:
        try:
            self.store.settle_schedule(schedule, status, at=iso(now), reason=reason)
        except ConflictError:
            self.counts.raced += 1
            return
        self.counts.skipped += 1
