"""Delivery events move messages forward; the sweeper makes sure none stays queued unseen."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from enum import StrEnum

from functions.carriers.models import DeliveryEvent
from functions.core.clock import Clock, iso
from functions.core.errors import NotFoundError, NotOutboundError, ValidationError
from functions.core.models import MessageRef, MessageStatus
from functions.logic.outbound import enqueue_or_leave_for_sweeper
from functions.logic.ports import (
    RETRYABLE,
    DeliveryStore,
    MetricsSink,
    OutboundQueue,
    RetryQueue,
    SweepStore,
)


class StatusOutcome(StrEnum):
    UPDATED = "updated"
    IGNORED = "ignored"  # intermediate, repeated or out-of-order: nothing to change
    UNKNOWN = "unknown"  # no such message: answered 2xx (no carrier retries), counted
    INBOUND = "inbound"  # names an inbound message, which has no delivery status: counted
    DEFERRED = "deferred"  # a dependency failed: parked on the retry queue


RETRY_STATUS = "status"


def apply_or_defer(
    event: DeliveryEvent, store: DeliveryStore, metrics: MetricsSink, retry: RetryQueue
) -> StatusOutcome:
    """Apply now, or park the event durably so the carrier's 2xx loses nothing."""
    try:
        return apply_delivery_event(event, store, metrics)
    except RETRYABLE:
        retry.defer(RETRY_STATUS, asdict(event))
        metrics.count("StatusDeferred")
        return StatusOutcome.DEFERRED


def _ref_for(event: DeliveryEvent, store: DeliveryStore) -> MessageRef:
    # Our own reference travels with the send (AWS Context / Twilio callback URL), so an
    # event that overtakes our 'sent' write still finds its message.
    if event.message_id:
        try:
            return MessageRef.from_token(event.message_id)
        except ValidationError:
            pass
    return store.find_by_carrier_id(event.carrier, event.carrier_message_id)


def apply_delivery_event(
    event: DeliveryEvent, store: DeliveryStore, metrics: MetricsSink
) -> StatusOutcome:
    if event.status is None:
        return StatusOutcome.IGNORED
    try:
        ref = _ref_for(event, store)
        changed = store.advance_status(
            ref,
            event.status,
            at=event.occurred_at,
            carrier=event.carrier,
            carrier_message_id=event.carrier_message_id,
            failure_reason=event.reason if event.status is MessageStatus.FAILED else None,
        )
    except NotFoundError:
        metrics.count("StatusForUnknownMessage")
        return StatusOutcome.UNKNOWN
    except NotOutboundError:
        # A carrier's id for a text a client sent: acknowledged, never applied to it.
        metrics.count("StatusForInboundMessage")
        return StatusOutcome.INBOUND
    if changed:
        metrics.count(f"Outbound{event.status.value.title()}")
    return StatusOutcome.UPDATED if changed else StatusOutcome.IGNORED


@dataclass(frozen=True)
class SweepReport:
    requeued: int
    expired: int


@dataclass
class Sweeper:
    """Re-drives messages stored as queued but never picked up; expires hopeless ones.

    A message is written to DynamoDB before it is put on SQS; if the process dies (or
    SQS is down) in between, only this sweep would notice. A message already attempted
    belongs to SQS and its DLQ (alarmed); after `expire_after` any message still queued
    is marked failed, because a late appointment text does more harm than none.
    """

    store: SweepStore
    queue: OutboundQueue
    clock: Clock
    metrics: MetricsSink
    requeue_after: timedelta = timedelta(minutes=5)
    expire_after: timedelta = timedelta(hours=24)

    def sweep(self) -> SweepReport:
        now = self.clock.now()
        requeued = expired = 0
        for pending in self.store.list_pending(created_before=iso(now - self.requeue_after)):
            if pending.created_at < iso(now - self.expire_after):
                if self.store.advance_status(
                    pending.ref,
                    MessageStatus.FAILED,
                    at=iso(now),
                    failure_reason="expired_in_queue",
                ):
                    expired += 1
            elif pending.send_attempts == 0:
                enqueue_or_leave_for_sweeper(self.queue, self.metrics, pending.ref)
                requeued += 1
        if requeued:
            self.metrics.count("SweeperRequeued", requeued)
        if expired:
            self.metrics.count("SweeperExpired", expired)
        return SweepReport(requeued, expired)
