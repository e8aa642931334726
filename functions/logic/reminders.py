"""Appointments and their reminders: entry, import, the day view.

A reminder is a scheduled message of kind `reminder` (functions/logic/scheduling.py sends
it). Its wording comes from the tenant's template, which names the practice, the date and
the time only. When one is sent, the client's conversation is marked as awaiting an
answer until the appointment starts; only then are C/Y, R and N read as answers
(functions/logic/reminder_replies.py, called by functions/logic/inbound.py), recorded on the
appointment and acknowledged. Any other time "Y" is just a text in the inbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from functions.core.clock import Clock, epoch_ms, expiry, iso
from functions.core.errors import ConflictError, NotFoundError, ValidationError
from functions.core.ids import new_id
from functions.core.models import Conversation, Tenant
from functions.core.schedule import (
    Appointment,
    AppointmentStatus,
    ScheduledMessage,
    ScheduleKind,
    ScheduleStatus,
    SchedulingConfig,
    external_key_hash,
    parse_local,
    parse_utc,
    reminder_due_times,
    validate_config,
)
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, can_see, require_admin
from functions.logic.appointment_import import (
    ImportedAppointment,
    ImportProblem,
    day_bounds,
    read_csv,
    read_ics,
)
from functions.logic.outbound import SYSTEM_SENDER
from functions.logic.reminder_replies import AnswerStore
from functions.logic.tenants import TenantDirectory


class AppointmentStore(AnswerStore, Protocol):
    """The replies' store (awaiting answers, the tenant's rules, the message log) plus
    appointments and their reminders."""

    def put_appointment(self, appointment: Appointment, *, replaces: str | None = None) -> None: ...
    def appointment_for_key(self, tenant_id: str, external_key: str) -> Appointment | None: ...
    def get_appointment(self, tenant_id: str, appointment_id: str) -> Appointment: ...
    def list_appointments(
        self, tenant_id: str, first_id: str, last_id: str
    ) -> list[Appointment]: ...
    def set_appointment_status(
        self, tenant_id: str, appointment_id: str, status: AppointmentStatus
    ) -> None: ...
    def set_schedule_ids(
        self, tenant_id: str, appointment_id: str, schedule_ids: tuple[str, ...]
    ) -> None: ...
    def put_schedule(self, schedule: ScheduledMessage) -> None: ...
    def get_schedule(
        self, tenant_id: str, conversation_id: str, schedule_id: str
    ) -> ScheduledMessage: ...
    def settle_schedule(
        self, schedule: ScheduledMessage, status: ScheduleStatus, *, at: str, reason: str
    ) -> None: ...
    def put_scheduling_config(self, tenant_id: str, config: SchedulingConfig) -> None: ...
    def get_conversation(self, tenant_id: str, conversation_id: str) -> Conversation: ...


def id_bound(moment: datetime, *, upper: bool) -> str:
    """The least (or greatest) ULID of a millisecond: the ends of an id range."""
    return new_id(epoch_ms(moment))[:10] + ("Z" * 16 if upper else "0" * 16)


@dataclass(frozen=True)
class AppointmentView:
    appointment_id: str
    conversation_id: str
    start_at: str
    start_local: str
    duration_minutes: int
    status: str
    source: str
    reply: str | None
    reply_at: str | None
    # none (no reminder sent yet) | awaiting (sent, no answer) | answered | cancelled
    reminder_state: str
    reminders_sent: int


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    unchanged: int
    cancelled: int
    problems: list[ImportProblem]


@dataclass
class AppointmentService:
    directory: TenantDirectory
    store: AppointmentStore
    cipher: EnvelopeCipher
    clock: Clock
    # The number's conversation id (blind index), or None if it is not a contact.
    conversation_for_number: Callable[[Tenant, str], str | None]
    fetch_feed: Callable[[str], bytes] | None = None

    # --- rules ---------------------------------------------------------------------------
    def get_config(self, principal: Principal) -> SchedulingConfig:
        return self.store.get_scheduling_config(principal.tenant_id)

    def set_config(self, principal: Principal, config: SchedulingConfig) -> SchedulingConfig:
        require_admin(principal)
        validate_config(config)
        saved = SchedulingConfig(**{**config.__dict__, "updated_at": iso(self.clock.now())})
        self.store.put_scheduling_config(principal.tenant_id, saved)
        return saved

    # --- entry ---------------------------------------------------------------------------
    def create(
        self,
        principal: Principal,
        *,
        conversation_id: str,
        start: str,
        duration_minutes: int = 50,
    ) -> AppointmentView:
        tenant = self.directory.active_tenant(principal.tenant_id)
        conversation = self.store.get_conversation(tenant.tenant_id, conversation_id)
        if not can_see(principal, conversation):
            raise NotFoundError("conversation not found")  # as if it did not exist
        config = self.store.get_scheduling_config(tenant.tenant_id)
        begins = parse_local(start, config.zone())
        if begins <= self.clock.now():
            raise ValidationError("start", "must be in the future")
        appointment = self._book(
            tenant, config, conversation_id, begins, duration_minutes, "manual"
        )
        return self._view(appointment, config)

    def import_csv(self, principal: Principal, text: str) -> ImportReport:
        tenant = self.directory.active_tenant(principal.tenant_id)
        config = self.store.get_scheduling_config(tenant.tenant_id)
        rows, problems = read_csv(text, config.zone())
        return self._import(tenant, config, rows, problems, "csv")

    def import_ics(self, principal: Principal, data: bytes) -> ImportReport:
        tenant = self.directory.active_tenant(principal.tenant_id)
        config = self.store.get_scheduling_config(tenant.tenant_id)
        today = self.clock.now().astimezone(config.zone()).date()
        rows, problems = read_ics(data, config.zone(), today=today)
        return self._import(tenant, config, rows, problems, "ics")

    def import_feed(self, principal: Principal, url: str) -> ImportReport:
        if self.fetch_feed is None:
            raise ValidationError("url", "calendar feeds are not enabled")
        return self.import_ics(principal, self.fetch_feed(url))

    def _import(
        self,
        tenant: Tenant,
        config: SchedulingConfig,
        rows: list[ImportedAppointment],
        problems: list[ImportProblem],
        source: str,
    ) -> ImportReport:
        from functions.core.phone import to_e164  # noqa: PLC0415 - imports only

        counts = {"created": 0, "updated": 0, "unchanged": 0, "cancelled": 0}
        now = self.clock.now()
        for row in rows:
            try:
                number = to_e164(row.phone, field="phone", default_region="US")
            except ValidationError:
                problems.append(ImportProblem(row.row, "phone", "is not a phone number"))
                continue
            conversation_id = self.conversation_for_number(tenant, number)
            if conversation_id is None:
                problems.append(ImportProblem(row.row, "phone", "is not a contact"))
                continue
            key = (
                external_key_hash(tenant.tenant_id, f"{source}:{row.external_id}")
                if row.external_id
                else None
            )
            existing = self.store.appointment_for_key(tenant.tenant_id, key) if key else None
            if row.cancelled:
                if existing and existing.status is AppointmentStatus.BOOKED:
                    self._cancel(existing)
                    counts["cancelled"] += 1
                continue
            if (
                existing
                and existing.start_at == iso(row.start)
                and existing.status is AppointmentStatus.BOOKED
            ):
                counts["unchanged"] += 1
                continue
            if row.start <= now:
                problems.append(ImportProblem(row.row, "start", "is in the past"))
                continue
            if existing:
                self._cancel(existing)
            self._book(
                tenant,
                config,
                conversation_id,
                row.start,
                row.duration_minutes,
                source,
                key,
                replaces=existing.appointment_id if existing else None,
            )
            counts["updated" if existing else "created"] += 1
        return ImportReport(problems=problems, **counts)

    def _book(
        self,
        tenant: Tenant,
        config: SchedulingConfig,
        conversation_id: str,
        start: datetime,
        duration_minutes: int,
        source: str,
        external_key: str | None = None,
        *,
        replaces: str | None = None,
    ) -> Appointment:
        if not 5 <= duration_minutes <= 480:
            raise ValidationError("duration_minutes", "must be 5 to 480")
        now = self.clock.now()
        appointment = Appointment(
            tenant_id=tenant.tenant_id,
            appointment_id=new_id(epoch_ms(start)),
            conversation_id=conversation_id,
            start_at=iso(start),
            duration_minutes=duration_minutes,
            source=source,
            created_at=iso(now),
            expires_at=expiry(start, tenant.retention_days),
            external_key=external_key,
        )
        self.store.put_appointment(appointment, replaces=replaces)
        schedule_ids = self._plan_reminders(tenant, config, appointment, start, now)
        if schedule_ids:
            self.store.set_schedule_ids(tenant.tenant_id, appointment.appointment_id, schedule_ids)
        return Appointment(**{**appointment.__dict__, "schedule_ids": schedule_ids})

    def _plan_reminders(
        self,
        tenant: Tenant,
        config: SchedulingConfig,
        appointment: Appointment,
        start: datetime,
        now: datetime,
    ) -> tuple[str, ...]:
        local = start.astimezone(config.zone())
        text = config.reminder_template.format(
            practice=tenant.display_name,
            date=local.strftime("%a %b %d").replace(" 0", " "),
            time=local.strftime("%I:%M %p").lstrip("0"),
        )
        ids = []
        for due in reminder_due_times(start, config.reminder_hours_before):
            if due <= now:
                continue  # booked inside the rule's window: that reminder is moot
            from functions.logic.scheduling import seal_schedule  # noqa: PLC0415

            schedule = seal_schedule(
                self.cipher,
                tenant=tenant,
                conversation_id=appointment.conversation_id,
                kind=ScheduleKind.REMINDER,
                due=due,
                body=text,
                created_by=SYSTEM_SENDER,
                now=now,
                appointment_id=appointment.appointment_id,
            )
            self.store.put_schedule(schedule)
            ids.append(schedule.schedule_id)
        return tuple(ids)

    def cancel(self, principal: Principal, appointment_id: str) -> None:
        appointment = self.store.get_appointment(principal.tenant_id, appointment_id)
        conversation = self.store.get_conversation(principal.tenant_id, appointment.conversation_id)
        if not can_see(principal, conversation):
            raise NotFoundError("appointment not found")
        self._cancel(appointment)

    def _cancel(self, appointment: Appointment) -> None:
        """The practice cancelled: pending reminders cancelled, answers no longer read."""
        at = iso(self.clock.now())
        for schedule_id in appointment.schedule_ids:
            try:
                schedule = self.store.get_schedule(
                    appointment.tenant_id, appointment.conversation_id, schedule_id
                )
                if schedule.status is ScheduleStatus.PENDING:
                    self.store.settle_schedule(
                        schedule, ScheduleStatus.CANCELLED, at=at, reason="appointment_cancelled"
                    )
            except (NotFoundError, ConflictError):
                continue
        self.store.set_appointment_status(
            appointment.tenant_id, appointment.appointment_id, AppointmentStatus.CANCELLED
        )
        self.store.clear_awaiting(
            appointment.tenant_id, appointment.conversation_id, appointment.appointment_id
        )

    # --- the day view ------------------------------------------------------------------------
    def day(self, principal: Principal, day: date | None = None) -> list[AppointmentView]:
        """A local day's sessions (tomorrow by default) with their confirmations."""
        config = self.store.get_scheduling_config(principal.tenant_id)
        zone = config.zone()
        if day is None:
            day = self.clock.now().astimezone(zone).date() + timedelta(days=1)
        first, after = day_bounds(day, zone)
        found = self.store.list_appointments(
            principal.tenant_id,
            id_bound(first, upper=False),
            id_bound(after - timedelta(milliseconds=1), upper=True),
        )
        return [self._view(a, config) for a in found]

    def _view(self, a: Appointment, config: SchedulingConfig) -> AppointmentView:
        if a.status is AppointmentStatus.CANCELLED:
            state = "cancelled"
        elif a.reply is not None:
            state = "answered"
        elif a.awaiting_since:
            state = "awaiting"
        else:
            state = "none"
        local = parse_utc(a.start_at).astimezone(config.zone())
        return AppointmentView(
            a.appointment_id,
            a.conversation_id,
            a.start_at,
            local.strftime("%Y-%m-%dT%H:%M"),
            a.duration_minutes,
            a.status.value,
            a.source,
            a.reply.value if a.reply else None,
            a.reply_at,
            state,
            a.reminders_sent,
        )
