"""After-hours care: the on-call rota and crisis settings, and the urgent conversations."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from pydantic import Field

from functions.core.care import CareSettings, DateRange, OnCallRota, WeeklySlot
from functions.core.errors import NotFoundError
from functions.handlers.api.models import _Body
from functions.handlers.api.policy import principal, route, runtime
from functions.logic.care import DEFAULT_CRISIS_REPLY

router = Router()

Day = Annotated[int, Field(ge=1, le=7, strict=True)]
HhMm = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
# Practice-local YYYY-MM-DDTHH:MM; whether the date exists is checked in logic/on_call.py.
LocalTime = Annotated[
    str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]$")
]
UserId = Annotated[str, Field(min_length=1, max_length=64)]
Phrase = Annotated[str, Field(max_length=60, pattern="[A-Za-z0-9]")]  # plain words, no regex
Phrases = Annotated[list[Phrase], Field(max_length=100)]


class WeeklySlotBody(_Body):
    user_id: UserId
    from_day: Day
    from_time: HhMm
    to_day: Day
    to_time: HhMm


class DateRangeBody(_Body):
    user_id: UserId
    starts: LocalTime
    ends: LocalTime


class CrisisPhrasesBody(_Body):
    """A category left out keeps the built-in phrases (functions/logic/crisis.py)."""

    suicide: Phrases | None = None
    self_harm: Phrases | None = None
    harm_to_others: Phrases | None = None
    abuse: Phrases | None = None


class CareBody(_Body):
    weekly: list[WeeklySlotBody] = Field(default_factory=list, max_length=100)
    ranges: list[DateRangeBody] = Field(default_factory=list, max_length=100)
    crisis_enabled: bool = Field(default=True, strict=True)
    crisis_phrases: CrisisPhrasesBody = CrisisPhrasesBody()
    crisis_reply: str = Field(default="", max_length=480)
    page_after_hours: bool = Field(default=True, strict=True)


def _view(settings: CareSettings) -> dict[str, Any]:
    care = runtime(router).care_service()
    return {
        "weekly": [asdict(s) for s in settings.rota.weekly],
        "ranges": [asdict(r) for r in settings.rota.ranges],
        "crisis_enabled": settings.crisis_enabled,
        "crisis_phrases": {c: list(p) for c, p in care.effective_phrases(settings).items()},
        "crisis_reply": settings.crisis_reply,
        "default_crisis_reply": DEFAULT_CRISIS_REPLY,
        "page_after_hours": settings.page_after_hours,
    }


@route(router, "GET", "/care-settings", audit=None)
def get_care_settings() -> dict[str, Any]:
    return _view(runtime(router).care_service().get_settings(principal(router)))


@route(router, "PUT", "/care-settings", audit="care_settings.update", admin_only=True)
def update_care_settings(payload: CareBody) -> dict[str, Any]:
    settings = CareSettings(
        rota=OnCallRota(
            tuple(WeeklySlot(**s.model_dump()) for s in payload.weekly),
            tuple(DateRange(**r.model_dump()) for r in payload.ranges),
        ),
        crisis_enabled=payload.crisis_enabled,
        crisis_phrases={
            c: tuple(p) for c, p in payload.crisis_phrases.model_dump(exclude_none=True).items()
        },
        crisis_reply=payload.crisis_reply,
        page_after_hours=payload.page_after_hours,
    )
    return _view(runtime(router).care_service().update_settings(principal(router), settings))


@route(router, "GET", "/urgent-conversations", audit="conversation.list")
def list_urgent() -> dict[str, Any]:
    """Conversations the crisis safety net flagged, oldest flag first: the inbox shows them
    above every other conversation until staff clear them."""
    who = principal(router)
    services = runtime(router)
    items = []
    for conversation_id, _at in services.care_service().urgent_ids(who):
        try:
            items.append(asdict(services.inbox_service().get_conversation(who, conversation_id)))
        except NotFoundError:
            continue  # not visible to this clinician, or deleted since
    return {"items": items}


@route(
    router,
    "DELETE",
    "/conversations/{conversation_id}/urgent",
    audit="conversation.clear_urgent",
    status=204,
)
def clear_urgent(conversation_id: str) -> Response[Any]:
    who = principal(router)
    services = runtime(router)
    services.inbox_service().get_conversation(who, conversation_id)  # 404 unless visible
    services.care_service().clear_urgent(who, conversation_id)
    return Response(status_code=204)
