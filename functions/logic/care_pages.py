"""The care pager: pages (and the urgent flag's audit event) from the table's stream.

The inbound transaction that stores a text writes a marker with it: `URGENT#<conversation>`
for a crisis text's flag, `PAGE#<conversation>#<message>` for an after-hours page
(functions/dal/store/care.py). Lambda hands their inserts to functions/handlers/care_pager.py,
off the carrier's request path, with this function's own grants (staff topic, staff
directory, audit table, forwarding cells, carrier send) that the inbound functions lack.

Delivery is at least once and each step (a channel, the audit event) runs once: a step that
finished is recorded (functions/dal/store/page_ledger.py) and skipped when the record comes
again. A step that failed fails the record: the stream retries from it, then leaves it in
the function's DLQ (alarmed). Never a silent drop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from functions.core.clock import Clock
from functions.core.errors import (
    DependencyError,
    NotFoundError,
    QuietlineError,
    TenantUnavailableError,
)
from functions.core.models import Conversation, Tenant
from functions.core.observability import logger
from functions.logic.care import CareService
from functions.logic.pager import PageKind, PageOutcome, PageSteps
from functions.logic.ports import ConversationRead, MetricsSink, Outcome


@dataclass(frozen=True)
class PageDue:
    """A page request, as its marker's stream record announces it (ids and a time only)."""

    tenant_id: str
    kind: PageKind
    conversation_id: str
    page_key: str  # unique per request: the dedupe ledger's key
    at: datetime  # when the text was stored: who was on call then is paged
    position: str  # the stream record's sequence number: where a retry resumes


class PageContextReader(Protocol):
    def tenant_and_conversation(self, tenant_id: str, conversation_id: str) -> ConversationRead: ...


class TenantAdmission(Protocol):
    def admit(self, read: Outcome[Tenant]) -> Tenant: ...


class PageLedgerPort(Protocol):
    def steps(self, tenant_id: str, page_key: str, now: datetime) -> PageSteps: ...


class PageIncompleteError(DependencyError):
    """A channel failed: the record is retried, and only the unfinished steps run again."""


@dataclass
class CarePages:
    care: CareService
    directory: TenantAdmission  # functions/logic/tenants.py TenantDirectory
    reads: PageContextReader
    ledger: PageLedgerPort
    clock: Clock
    metrics: MetricsSink

    def page_all(self, requests: Sequence[PageDue]) -> str | None:
        """Each request in order; the position of the first that did not finish (it and
        every later one are delivered again), or None when all did."""
        for due in requests:
            try:
                self.page(due)
            except QuietlineError as error:
                self.metrics.count("CarePageFailed")
                logger.warning(
                    "a page did not finish; the stream delivers it again",
                    extra={"kind": due.kind.value, "error": type(error).__name__},
                )
                return due.position
        return None

    def page(self, due: PageDue) -> PageOutcome | None:
        read = self.reads.tenant_and_conversation(due.tenant_id, due.conversation_id)
        try:
            tenant = self.directory.admit(read.tenant)
        except TenantUnavailableError:
            self.metrics.count("CarePageForWipedTenant")  # wiped since: nobody to page
            return None
        conversation = _unless_absent(read)
        from_number = conversation.business_number if conversation else None
        steps = self.ledger.steps(due.tenant_id, due.page_key, self.clock.now())
        if due.kind is PageKind.URGENT:
            outcome: PageOutcome | None = self.care.page_urgent(
                tenant, conversation, due.conversation_id, from_number, due.at, steps
            )
        else:
            outcome = self.care.page_after_hours(tenant, from_number, due.at, steps)
        if outcome is not None and outcome.failed:
            raise PageIncompleteError(f"channels failed: {','.join(outcome.failed)}")
        return outcome


def _unless_absent(read: ConversationRead) -> Conversation | None:
    try:
        return read.conversation.get()
    except NotFoundError:
        return None  # deleted since: the admins or the on-call are still paged
