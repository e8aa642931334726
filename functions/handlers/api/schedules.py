"""Scheduled messages in a thread, appointments with their reminders, and the rules."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from functions.core.errors import ValidationError
from functions.core.schedule import SchedulingConfig
from functions.handlers.api.policy import json_response, principal, route, runtime
from functions.handlers.api.schedule_models import (
    AppointmentImport,
    NewAppointment,
    NewSchedule,
    SchedulingRules,
)
from functions.handlers.api.views import page_of

router = Router()

Day = Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")]


@route(router, "GET", "/conversations/{conversation_id}/schedules", audit="schedule.read")
def list_schedules(conversation_id: str) -> dict[str, Any]:
    views = runtime(router).schedule_service().list_pending(principal(router), conversation_id)
    return page_of(views, None)


@route(
    router,
    "POST",
    "/conversations/{conversation_id}/schedules",
    audit="schedule.create",
    status=201,
)
def create_schedule(conversation_id: str, payload: NewSchedule) -> Response[Any]:
    view = (
        runtime(router)
        .schedule_service()
        .schedule(
            principal(router),
            conversation_id,
            send_at=payload.send_at,
            body=payload.body,
            secure_link=payload.mode == "secure_link",
        )
    )
    return json_response(201, asdict(view))


@route(
    router,
    "DELETE",
    "/conversations/{conversation_id}/schedules/{schedule_id}",
    audit="schedule.cancel",
    status=204,
)
def cancel_schedule(conversation_id: str, schedule_id: str) -> Response[Any]:
    runtime(router).schedule_service().cancel(principal(router), conversation_id, schedule_id)
    return Response(status_code=204)


@route(router, "GET", "/appointments", audit="appointment.list")
def list_appointments(day: Day = None) -> dict[str, Any]:
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        raise ValidationError("day", "must be YYYY-MM-DD") from None
    views = runtime(router).appointment_service().day(principal(router), wanted)
    return page_of(views, None)


@route(
    router,
    "POST",
    "/conversations/{conversation_id}/appointments",
    audit="appointment.create",
    status=201,
)
def create_appointment(conversation_id: str, payload: NewAppointment) -> Response[Any]:
    view = (
        runtime(router)
        .appointment_service()
        .create(
            principal(router),
            conversation_id=conversation_id,
            start=payload.start,
            duration_minutes=payload.duration_minutes,
        )
    )
    return json_response(201, asdict(view))


@route(
    router,
    "DELETE",
    "/appointments/{appointment_id}",
    audit="appointment.cancel",
    status=204,
)
def cancel_appointment(appointment_id: str) -> Response[Any]:
    runtime(router).appointment_service().cancel(principal(router), appointment_id)
    return Response(status_code=204)


@route(
    router,
    "POST",
    "/appointments/import",
    audit="appointment.import",
    admin_only=True,
    max_body_bytes=1_100_000,
)
def import_appointments(payload: AppointmentImport) -> dict[str, Any]:
    service = runtime(router).appointment_service()
    caller = principal(router)
    if payload.format == "csv":
        report = service.import_csv(caller, payload.content)
    elif payload.format == "ics":
        report = service.import_ics(caller, payload.content.encode())
    else:
        report = service.import_feed(caller, payload.content)
    return asdict(report)


@route(router, "GET", "/scheduling-settings", audit=None)
def get_rules() -> dict[str, Any]:
    return asdict(runtime(router).appointment_service().get_config(principal(router)))


@route(
    router,
    "PUT",
    "/scheduling-settings",
    audit="scheduling_settings.update",
    admin_only=True,
)
def put_rules(payload: SchedulingRules) -> dict[str, Any]:
    config = SchedulingConfig(
        **{
            **payload.model_dump(),
            "reminder_hours_before": tuple(payload.reminder_hours_before),
        }
    )
    return asdict(runtime(router).appointment_service().set_config(principal(router), config))
