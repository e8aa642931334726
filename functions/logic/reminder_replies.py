"""A client's text read as the answer to an appointment reminder, only while one awaits it.

Called by functions/logic/inbound.py once a text is stored (every inbound text: so this
module stays small, for the inbound functions' cold start). Only a whole text that is an
answer (C/Y, R, N) costs a read: of the marker a sent reminder leaves on the client's
conversation until the appointment starts. Without it "Y" is just a text in the inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ConflictError, QuietlineError
from functions.core.models import Message, MessageRef, Tenant
from functions.core.observability import logger
from functions.core.schedule import ReplyKind, SchedulingConfig
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.keywords import Keyword
from functions.logic.outbound import SYSTEM_SENDER, enqueue_or_leave_for_sweeper, queued_message
from functions.logic.ports import MetricsSink, OutboundQueue

_ANSWERS: dict[str, ReplyKind] = {
    **dict.fromkeys(("c", "y", "yes", "confirm", "confirmed"), ReplyKind.CONFIRMED),
    **dict.fromkeys(("r", "reschedule"), ReplyKind.RESCHEDULE),
    **dict.fromkeys(("n", "no", "cancel"), ReplyKind.CANCEL),
}


def classify_answer(body: str) -> ReplyKind | None:
    """The answer a whole text is (case, spacing and trailing punctuation ignored)."""
    if not isinstance(body, str) or len(body) > 40:
        return None
    return _ANSWERS.get(" ".join(body.split()).rstrip(".!?,;:").strip().casefold())


class AnswerStore(Protocol):
    def awaiting(self, tenant_id: str, conversation_id: str) -> tuple[str, str] | None: ...
    def record_reply(
        self, tenant_id: str, conversation_id: str, appointment_id: str, reply: ReplyKind, at: str
    ) -> None: ...
    def clear_awaiting(self, tenant_id: str, conversation_id: str, appointment_id: str) -> None: ...
    def get_scheduling_config(self, tenant_id: str) -> SchedulingConfig: ...
    def record_message(self, message: Message) -> None: ...


@dataclass
class ReminderReplies:
    """Reads a client's text as an answer to a reminder, only while one awaits it."""

    store: AnswerStore
    cipher: EnvelopeCipher
    queue: OutboundQueue
    clock: Clock
    metrics: MetricsSink

    def after_inbound(
        self, tenant: Tenant, conversation_id: str, body: str, keyword: Keyword | None
    ) -> ReplyKind | None:
        """Called once an inbound text is stored; never raises (the text is safe already)."""
        try:
            return self._answer(tenant, conversation_id, body, keyword)
        except QuietlineError as error:
            self.metrics.count("ReminderReplyFailed")
            logger.warning("reminder answer not recorded", extra={"error": type(error).__name__})
            return None

    def _answer(
        self, tenant: Tenant, conversation_id: str, body: str, keyword: Keyword | None
    ) -> ReplyKind | None:
        answer = classify_answer(body)
        if answer is None or keyword in (Keyword.HELP, Keyword.OPT_IN):
            return None  # most texts: no read at all
        awaiting = self.store.awaiting(tenant.tenant_id, conversation_id)
        if awaiting is None:
            return None
        appointment_id, until = awaiting
        now = self.clock.now()
        if iso(now) >= until:
            self.store.clear_awaiting(tenant.tenant_id, conversation_id, appointment_id)
            return None
        try:
            self.store.record_reply(
                tenant.tenant_id, conversation_id, appointment_id, answer, iso(now)
            )
        except ConflictError:
            return None  # answered already (a second text raced this one)
        self.metrics.count(f"ReminderAnswer{answer.name.title()}")
        if keyword is Keyword.OPT_OUT:
            return answer  # CANCEL is also a carrier opt-out: the STOP reply is the only one
        config = self.store.get_scheduling_config(tenant.tenant_id)
        text = {
            ReplyKind.CONFIRMED: config.confirmed_reply,
            ReplyKind.RESCHEDULE: config.reschedule_reply,
            ReplyKind.CANCEL: config.cancel_reply,
        }[answer]
        message = queued_message(
            self.cipher,
            self.clock,
            tenant=tenant,
            conversation_id=conversation_id,
            body=text,
            sent_by=SYSTEM_SENDER,
        )
        self.store.record_message(message)
        enqueue_or_leave_for_sweeper(
            self.queue,
            self.metrics,
            MessageRef(tenant.tenant_id, conversation_id, message.message_id),
        )
        return answer
