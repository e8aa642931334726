"""Factories of scheduled messages and reminders (functions/logic/scheduling.py,
reminders.py) and of after-hours care (functions/logic/care.py: on-call, crisis, pages)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.composition.base import ContainerBase
from functions.core.errors import NotFoundError

if TYPE_CHECKING:
    from functions.dal.store.calls import CallRecords
    from functions.dal.store.schedules import ScheduleRecords
    from functions.logic.care import CareService
    from functions.logic.care_pages import CarePages
    from functions.logic.pager import Pager
    from functions.logic.reminder_replies import ReminderReplies
    from functions.logic.reminders import AppointmentService
    from functions.logic.scheduling import DueSweep, ScheduleService
    from functions.logic.secure_links import SecureLinkService


class CareFactories(ContainerBase):
    if TYPE_CHECKING:  # built by the other capabilities of functions.container.Container

        def secure_links(self) -> SecureLinkService: ...
        def call_store(self) -> CallRecords: ...

    def schedule_store(self) -> ScheduleRecords:
        from functions.dal.store.schedules import ScheduleRecords  # noqa: PLC0415

        return self._once("schedule_store", lambda: ScheduleRecords(self.store().table))

    def schedule_service(self) -> ScheduleService:
        def build() -> ScheduleService:
            from functions.logic.scheduling import ScheduleService  # noqa: PLC0415

            return ScheduleService(
                self.directory(),
                self.schedule_store(),
                self.cipher(),
                self.clock(),
                self.staff_reads(),
            )

        return self._once("schedule_service", build)

    def due_sweep(self) -> DueSweep:
        def build() -> DueSweep:
            from functions.logic.scheduling import DueSweep  # noqa: PLC0415

            links = self.secure_links if self.settings.secure_link_base_url else None
            return DueSweep(
                self.directory(),
                self.schedule_store(),
                self.cipher(),
                self.outbound_queue(),
                self.ports.scheduler_clock or self.clock(),
                self.metrics(),
                secure_links=links,
            )

        return self._once("due_sweep", build)

    def appointment_service(self) -> AppointmentService:
        def build() -> AppointmentService:
            from functions.dal.calendar_feed import CalendarFeedFetcher  # noqa: PLC0415
            from functions.logic.reminders import AppointmentService  # noqa: PLC0415

            store = self.schedule_store()
            directory = self.directory()

            def conversation_for_number(tenant: Any, number: str) -> str | None:
                conversation_id = directory.conversation_id_for(tenant, number)
                try:
                    store.get_conversation(tenant.tenant_id, conversation_id)
                except NotFoundError:
                    return None
                return conversation_id

            # Local mode's tests serve a feed on 127.0.0.1; a deployment never may.
            feeds = CalendarFeedFetcher(allow_local_http=self.settings.stage == "local")
            return AppointmentService(
                directory,
                store,
                self.cipher(),
                self.clock(),
                conversation_for_number,
                fetch_feed=feeds.fetch,
            )

        return self._once("appointment_service", build)

    def reminder_replies(self) -> ReminderReplies:
        def build() -> ReminderReplies:
            from functions.logic.reminder_replies import ReminderReplies  # noqa: PLC0415

            return ReminderReplies(
                self.schedule_store(),
                self.cipher(),
                self.outbound_queue(),
                self.clock(),
                self.metrics(),
            )

        return self._once("reminder_replies", build)

    # --- after-hours care (functions/logic/care.py) -------------------------------------
    def pager(self) -> Pager:
        """E-mail (the staff topic) and SMS to the clinician's cell; Web Push appends here."""

        def build() -> Pager:
            from functions.dal.pager import SnsEmailPager  # noqa: PLC0415
            from functions.logic.pager import CellPager, Pager  # noqa: PLC0415

            channels = self.ports.page_channels
            if channels is None:
                topic = self.settings.staff_topic_arn or ""
                channels = (
                    SnsEmailPager(topic, self.clients.client("sns")),
                    CellPager(self.call_store(), self.cipher(), self.carrier, self.clock()),
                )
            return Pager(channels, self.metrics())

        return self._once("pager", build)

    def care_service(self) -> CareService:
        def build() -> CareService:
            from functions.dal.store.care import CareRecords  # noqa: PLC0415
            from functions.logic.care import CareService  # noqa: PLC0415

            return CareService(
                CareRecords(self.store().table),
                self.staff_if_configured(),
                self.pager,
                self.audit_sink,
                self.clock(),
                self.metrics(),
            )

        return self._once("care_service", build)

    def care_pages(self) -> CarePages:
        """The care pager's service (functions/handlers/care_pager.py), fed by the stream."""

        def build() -> CarePages:
            from functions.dal.store.page_ledger import PageLedger  # noqa: PLC0415
            from functions.logic.care_pages import CarePages  # noqa: PLC0415

            store = self.store()
            return CarePages(
                self.care_service(),
                self.directory(),
                store,
                PageLedger(store.table),
                self.clock(),
                self.metrics(),
            )

        return self._once("care_pages", build)
