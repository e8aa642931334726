"""Paging staff without PHI: one port, a channel per way of reaching them, tried in parallel
in the sense that one failing never stops the others.

A page says only that something is waiting ("Urgent message in Quietline — open the
inbox"): never the client's name, number or words, never the practice's number. Channels:
e-mail through the staff topic (functions/dal/pager.py), SMS to the clinician's cell (the
forwarding number they gave for calls, `CellPager` below); Web Push is one more
`PageChannel` appended where the container builds the pager.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from functions.carriers.models import Carrier, OutboundSms
from functions.core.clock import Clock, epoch_ms
from functions.core.errors import QuietlineError
from functions.core.ids import new_id
from functions.core.observability import logger
from functions.crypto.contexts import forwarding_number_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.ports import MetricsSink


class PageKind(StrEnum):
    URGENT = "urgent"  # a crisis phrase matched
    AFTER_HOURS = "after_hours"  # an ordinary text outside office hours, to the on-call


PAGE_TEXT = {
    PageKind.URGENT: "Urgent message in Quietline \u2014 open the inbox",
    PageKind.AFTER_HOURS: "New after-hours message in Quietline \u2014 open the inbox",
}


@dataclass(frozen=True)
class PageRequest:
    tenant_id: str
    user_ids: tuple[str, ...]  # who to reach; channels that cannot address one person ignore it
    kind: PageKind
    from_number: str | None = None  # the practice number an SMS page is sent from


class PageSteps(Protocol):
    """Once-only steps of one page (a channel, the audit event): a stream retry or a
    duplicate record re-runs only the steps that did not finish (functions/dal/page_ledger.py)."""

    def claim(self, step: str) -> bool:
        """False when the step finished already (skip it); True: run it, then `done`."""
        ...

    def done(self, step: str) -> None: ...


class PageChannel(Protocol):
    name: str

    def page(self, request: PageRequest) -> int:
        """Pages sent (0: nobody reachable this way). Raises QuietlineError on a fault."""
        ...


@dataclass(frozen=True)
class PageOutcome:
    sent: dict[str, int]  # channel name -> pages sent
    failed: tuple[str, ...]  # channel names that raised


@dataclass
class Pager:
    channels: Sequence[PageChannel]
    metrics: MetricsSink

    def page(self, request: PageRequest, steps: PageSteps | None = None) -> PageOutcome:
        """Every channel once. With `steps`, a channel that finished on an earlier attempt
        is skipped (counted as sent) and a failed one is left for the next attempt."""
        sent: dict[str, int] = {}
        failed: list[str] = []
        for channel in self.channels:
            try:
                if steps is not None and not steps.claim(channel.name):
                    sent[channel.name] = sent.get(channel.name, 0) + 1  # paged before
                    continue
                sent[channel.name] = channel.page(request)
                if steps is not None:
                    steps.done(channel.name)
            except QuietlineError as error:
                failed.append(channel.name)
                self.metrics.count("PageFailed")
                logger.warning(
                    "a paging channel failed",
                    extra={"channel": channel.name, "error": type(error).__name__},
                )
        if not any(sent.values()):
            self.metrics.count("PageReachedNobody")
        return PageOutcome(sent, tuple(failed))


class ForwardingRecords(Protocol):
    def get_forwarding_records(self, tenant_id: str, user_ids: list[str]) -> dict[str, bytes]: ...


@dataclass
class CellPager:
    """An SMS to each paged clinician's cell, from the practice number the client texted."""

    forwarding: ForwardingRecords
    cipher: EnvelopeCipher
    carrier: Callable[[], Carrier]
    clock: Clock
    name: str = "sms"

    def page(self, request: PageRequest) -> int:
        if request.from_number is None or not request.user_ids:
            return 0
        tenant_id = request.tenant_id
        records = self.forwarding.get_forwarding_records(tenant_id, list(request.user_ids))
        user_ids = [u for u in request.user_ids if u in records]
        numbers = self.cipher.decrypt_many(
            [(forwarding_number_location(tenant_id, u), records[u]) for u in user_ids]
        )
        carrier = self.carrier()
        for number in numbers:
            carrier.send(
                OutboundSms(
                    origination_number=request.from_number,
                    destination_number=number,
                    body=PAGE_TEXT[request.kind],
                    message_id=new_id(epoch_ms(self.clock.now())),
                    tenant_id=tenant_id,
                )
            )
        return len(numbers)
