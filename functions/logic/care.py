"""After-hours care: who is on call, the crisis safety net's decisions, urgent flags, pages.

Best effort, never monitoring (docs/crisis.md). The inbound path asks `check` before it
stores a text: the crisis reply and the urgent flag (its marker item) are written with the
message, in one transaction, as is an after-hours page request when `wants_after_hours_page`.
Paging and the flag's audit event run off the request path, from the markers' stream
records (functions/logic/care_pages.py): at least once, each step once, retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from functions.core.care import CareSettings
from functions.core.clock import Clock, iso
from functions.core.errors import ForbiddenError, QuietlineError
from functions.core.models import Conversation, StaffUser, Tenant
from functions.core.observability import logger
from functions.logic.access import Principal
from functions.logic.after_hours import is_after_hours
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.crisis import CrisisCategory, CrisisMatch, CrisisMatcher, CrisisPhrases
from functions.logic.crisis import validate_phrases as _validate_phrases
from functions.logic.on_call import on_call, validate_rota
from functions.logic.pager import PageKind, PageOutcome, Pager, PageRequest, PageSteps
from functions.logic.ports import MetricsSink

# The resources every crisis reply gives unless the practice words its own.
DEFAULT_CRISIS_REPLY = (
    "{practice}: if you are in danger or thinking of harming yourself or someone else, "
    "call 911, or call or text 988 (Suicide & Crisis Lifeline). You can also text HOME to "
    "741741 (Crisis Text Line). These texts are not monitored around the clock; "
    "we have let the clinician on call know."
)
SYSTEM_ACTOR = "inbound"
AUDIT_STEP = "audit"  # the flag's audit event, once per flag like each page channel
SETTINGS_TTL_SECONDS = 60.0  # an edit reaches every warm inbound instance within a minute


class CareStore(Protocol):
    def get_care_settings(self, tenant_id: str) -> CareSettings: ...

    def put_care_settings(self, tenant_id: str, settings: CareSettings) -> None: ...

    def list_urgent(self, tenant_id: str) -> list[tuple[str, str]]: ...

    def clear_urgent(self, tenant_id: str, conversation_id: str) -> bool: ...


class Roster(Protocol):
    def is_active_staff(self, tenant_id: str, user_id: str) -> bool: ...

    def list_users(self, tenant_id: str) -> list[StaffUser]: ...


@dataclass(frozen=True)
class CrisisCheck:
    """What a matched text changes: the reply to send ("" for none) and whether to flag."""

    match: CrisisMatch
    reply: str
    flag: bool


@dataclass
class CareService:
    store: CareStore
    staff: Callable[[], Roster] | None
    pager: Callable[[], Pager]
    audit: Callable[[], AuditSink]  # built on first page: most texts never audit here
    clock: Clock
    metrics: MetricsSink
    _cache: dict[str, tuple[float, CareSettings, CrisisMatcher]] = field(default_factory=dict)

    # --- settings ----------------------------------------------------------------------
    def _settings(self, tenant_id: str) -> tuple[CareSettings, CrisisMatcher]:
        cached = self._cache.get(tenant_id)
        if cached is not None and time.monotonic() - cached[0] < SETTINGS_TTL_SECONDS:
            return cached[1], cached[2]
        try:
            settings = self.store.get_care_settings(tenant_id)
        except QuietlineError as error:
            # The net must not fail shut: the built-in phrases and wording stand in, and
            # the text is still stored. Not cached, so the next text reads again.
            self.metrics.count("CareSettingsUnavailable")
            logger.warning("care settings unreadable", extra={"error": type(error).__name__})
            return CareSettings(), CrisisMatcher()
        phrases = {CrisisCategory(c): p for c, p in settings.crisis_phrases.items()}
        matcher = CrisisMatcher(CrisisPhrases(phrases))
        self._cache[tenant_id] = (time.monotonic(), settings, matcher)
        return settings, matcher

    def get_settings(self, principal: Principal) -> CareSettings:
        return self.store.get_care_settings(principal.tenant_id)

    def update_settings(self, principal: Principal, settings: CareSettings) -> CareSettings:
        if not principal.is_admin:
            raise ForbiddenError("admins only")
        phrases = _validate_phrases(settings.crisis_phrases).phrases
        validate_rota(settings.rota, lambda u: self._is_active(principal.tenant_id, u))
        checked = CareSettings(
            rota=settings.rota,
            crisis_enabled=settings.crisis_enabled,
            crisis_phrases={c.value: p for c, p in phrases.items()},
            crisis_reply=settings.crisis_reply.strip(),
            page_after_hours=settings.page_after_hours,
        )
        self.store.put_care_settings(principal.tenant_id, checked)
        self._cache.pop(principal.tenant_id, None)
        return checked

    def effective_phrases(self, settings: CareSettings) -> dict[str, tuple[str, ...]]:
        phrases = {CrisisCategory(c): p for c, p in settings.crisis_phrases.items()}
        return {c.value: p for c, p in CrisisPhrases(phrases).effective().items()}

    # --- who is on call ----------------------------------------------------------------
    def _is_active(self, tenant_id: str, user_id: str) -> bool:
        if self.staff is None:
            return False  # nobody can be vouched for: nobody is paged or rung by the rota
        return self.staff().is_active_staff(tenant_id, user_id)

    def on_call(self, tenant: Tenant, now: datetime) -> str | None:
        """The active clinician the rota names at `now`, or None."""
        settings, _ = self._settings(tenant.tenant_id)
        zone = tenant.settings.after_hours.timezone
        return on_call(settings.rota, zone, now, lambda u: self._is_active(tenant.tenant_id, u))

    def on_call_for_call(self, tenant: Tenant, now: datetime) -> str | None:
        """For voice routing: the on-call clinician outside office hours, else None. Any
        fault answers None, so a call falls to voicemail rather than failing."""
        try:
            if not is_after_hours(tenant.settings.after_hours, now):
                return None
            return self.on_call(tenant, now)
        except QuietlineError as error:
            self.metrics.count("OnCallLookupFailed")
            logger.warning("on-call lookup failed", extra={"error": type(error).__name__})
            return None

    # --- the inbound path --------------------------------------------------------------
    def check(
        self, tenant: Tenant, conversation: Conversation | None, body: str
    ) -> CrisisCheck | None:
        """None unless the safety net is on and the text holds a crisis phrase. A
        conversation already flagged gets no second reply and no second flag."""
        settings, matcher = self._settings(tenant.tenant_id)
        if not settings.crisis_enabled:
            return None
        match = matcher.check(body)
        if match is None:
            return None
        self.metrics.count("CrisisPhraseMatched")
        if conversation is not None and conversation.urgent_at:
            return CrisisCheck(match, "", flag=False)
        # An opted-out client is not texted (STOP is final until START), but still flagged.
        opted_out = conversation is not None and conversation.opted_out
        reply = "" if opted_out else crisis_reply_text(settings, tenant.display_name)
        return CrisisCheck(match, reply, flag=True)

    def wants_after_hours_page(self, tenant: Tenant, now: datetime) -> bool:
        """Whether an ordinary text stored at `now` asks the care pager to page the on-call
        (the pager resolves who: that needs the staff directory, which this path lacks)."""
        settings, _ = self._settings(tenant.tenant_id)
        return settings.page_after_hours and is_after_hours(tenant.settings.after_hours, now)

    # --- the care pager (off the request path: functions/logic/care_pages.py) ----------
    def page_urgent(
        self,
        tenant: Tenant,
        conversation: Conversation | None,
        conversation_id: str,
        from_number: str | None,
        at: datetime,
        steps: PageSteps,
    ) -> PageOutcome:
        """Page for a flagged conversation and audit the flag, each step once (`steps`).
        Raises if the audit event cannot be written: the stream delivers the flag again."""
        tenant_id = tenant.tenant_id
        users = self._crisis_recipients(tenant, conversation, at)
        request = PageRequest(tenant_id, users, PageKind.URGENT, from_number)
        outcome = self.pager().page(request, steps)
        if steps.claim(AUDIT_STEP):
            self._audit_flag(tenant_id, conversation_id, users, outcome, at)
            steps.done(AUDIT_STEP)
            self.metrics.count("ConversationFlaggedUrgent")
        return outcome

    def page_after_hours(
        self, tenant: Tenant, from_number: str | None, at: datetime, steps: PageSteps
    ) -> PageOutcome | None:
        """Page the clinician on call at `at` (None: nobody is, or paging was turned off)."""
        settings, _ = self._settings(tenant.tenant_id)
        if not settings.page_after_hours:
            return None
        on_duty = self.on_call(tenant, at)
        if on_duty is None:
            self.metrics.count("AfterHoursNobodyOnCall")
            return None
        request = PageRequest(tenant.tenant_id, (on_duty,), PageKind.AFTER_HOURS, from_number)
        return self.pager().page(request, steps)

    def _audit_flag(
        self,
        tenant_id: str,
        conversation_id: str,
        users: tuple[str, ...],
        outcome: PageOutcome,
        now: datetime,
    ) -> None:
        self.audit().record(
            AuditEvent(
                action="conversation.flag_urgent",
                outcome=Outcome.SUCCESS,
                actor=SYSTEM_ACTOR,
                tenant_id=tenant_id,
                at=iso(now),
                # Ids and counts only: not the category (it would say what the client wrote).
                target={
                    "conversation_id": conversation_id,
                    "paged": ",".join(users),
                    "pages_sent": str(sum(outcome.sent.values())),
                    "channels_failed": ",".join(outcome.failed),
                },
            )
        )

    def _crisis_recipients(
        self, tenant: Tenant, conversation: Conversation | None, now: datetime
    ) -> tuple[str, ...]:
        """The on-call clinician; else the assigned one; else the practice's admins."""
        on_duty = self.on_call(tenant, now)
        if on_duty is not None:
            return (on_duty,)
        tenant_id = tenant.tenant_id
        assigned = conversation.assigned_to if conversation else None
        if assigned and self._is_active(tenant_id, assigned):
            return (assigned,)
        if self.staff is None:
            return ()
        users = self.staff().list_users(tenant_id)
        return tuple(u.user_id for u in users if u.role == "admin" and u.enabled)

    # --- the inbox ---------------------------------------------------------------------
    def urgent_ids(self, principal: Principal) -> list[tuple[str, str]]:
        return self.store.list_urgent(principal.tenant_id)

    def clear_urgent(self, principal: Principal, conversation_id: str) -> None:
        """Staff clear a flag once someone has followed up (the route audits who).
        Idempotent: clearing a conversation that is not flagged changes nothing."""
        if self.store.clear_urgent(principal.tenant_id, conversation_id):
            self.metrics.count("UrgentFlagCleared")


def crisis_reply_text(settings: CareSettings, practice_name: str) -> str:
    return settings.crisis_reply or DEFAULT_CRISIS_REPLY.format(practice=practice_name)


def validate_phrases(phrases: Mapping[str, tuple[str, ...]]) -> None:
    _validate_phrases(phrases)
