"""Telling staff a client wrote: one no-PHI e-mail per new inbound message, off the request path.

The message table's stream feeds this (functions/handlers/staff_notifier.py): the text is
stored, and the carrier answered, before anyone is told, and a slow or failing SNS never
holds up a text. Delivery is at least once: a retried batch can repeat a record, and then
staff get the same "new message" e-mail twice. That is accepted rather than deduplicated
(it would cost a conditional write per message): the e-mail names only the practice, so a
duplicate costs a moment's attention, never PHI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from functions.core.errors import DependencyError, TenantUnavailableError, ThrottledError
from functions.core.observability import logger
from functions.logic.ports import MetricsSink, StaffNotifier
from functions.logic.tenants import TenantDirectory


@dataclass(frozen=True)
class NewInboundMessage:
    """A stored inbound message, as its stream record announces it."""

    tenant_id: str
    position: str  # the stream record's sequence number: where a retry resumes
    conversation_id: str = ""  # a blind index, not PHI: what live updates name


@dataclass
class StaffAlerts:
    directory: TenantDirectory
    notifier: StaffNotifier
    metrics: MetricsSink

    def notify(self, arrivals: Sequence[NewInboundMessage]) -> str | None:
        """Tell staff of each arrival, in order; the position of the first that could not
        be told (it and every later one are delivered again), or None when all were."""
        practices: dict[str, str | None] = {}
        for arrival in arrivals:
            try:
                if arrival.tenant_id not in practices:
                    practices[arrival.tenant_id] = self._practice(arrival.tenant_id)
                name = practices[arrival.tenant_id]
                if name is not None:
                    self.notifier.new_inbound_message(arrival.tenant_id, name)
            except (DependencyError, ThrottledError) as error:
                self.metrics.count("StaffNotificationFailed")
                logger.warning(
                    "staff notification failed; the stream delivers it again",
                    extra={"error": type(error).__name__},
                )
                return arrival.position
        return None

    def _practice(self, tenant_id: str) -> str | None:
        """The practice's name for the e-mail; None if the tenant was wiped since."""
        try:
            return self.directory.active_tenant(tenant_id).display_name
        except TenantUnavailableError:
            return None
