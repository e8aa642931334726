"""Appointment reminders on moto: planned by the tenant's rules, answered only while awaited."""

from __future__ import annotations

from datetime import date

import pytest

from functions.core.schedule import ReplyKind
from functions.handlers import inbound_sns
from functions.logic.access import Principal, Role
from local.apigw import LambdaContext
from tests.builders import sns_inbound
from tests.integration.conftest import Messaging
from tests.integration.test_scheduling import (
    client_conversation,
    deliver,
    sweep,
    texts_to_client,
)
from tests.phi_samples import BUSINESS_NUMBER, CLIENT_PHONE, OTHER_CLIENT_PHONE

pytestmark = pytest.mark.integration

CONTEXT = LambdaContext("test")
ADMIN = Principal("u-admin", "harbor", Role.ADMIN, "s1", 0)
# The harness's clock is Monday 2026-11-30 10:00 New York; the session is Thursday 14:00.
SESSION = "2026-12-03T14:00"
THURSDAY = date(2026, 12, 3)


def client_texts(messaging: Messaging, body: str) -> None:
    messaging.bound(inbound_sns)(
        sns_inbound(from_number=CLIENT_PHONE, to_number=BUSINESS_NUMBER, body=body), CONTEXT
    )


def book(messaging: Messaging) -> str:
    conversation_id = client_conversation(messaging)
    view = messaging.runtime.appointment_service().create(
        ADMIN, conversation_id=conversation_id, start=SESSION
    )
    return view.appointment_id


def first_reminder_sent(messaging: Messaging) -> None:
    """48 h before Thursday 14:00 is Tuesday 14:00 (19:00 UTC)."""
    messaging.clock.advance(days=1, hours=4, minutes=1)
    assert sweep(messaging)["sent"] == 1
    deliver(messaging)


def test_a_reminder_goes_out_by_the_rule_with_no_clinical_detail(messaging: Messaging) -> None:
    book(messaging)
    messaging.clock.advance(days=1, hours=3, minutes=59)  # a minute before 48 h
    assert sweep(messaging)["sent"] == 0
    messaging.clock.advance(minutes=2)
    assert sweep(messaging)["sent"] == 1
    deliver(messaging)
    (text,) = texts_to_client(messaging)
    assert text == (
        "Reminder from Harbor Counseling: your appointment is Thu Dec 3 at 2:00 PM. "
        "Reply C to confirm, R to reschedule, N to cancel."
    )


def test_a_c_reply_while_awaiting_confirms_and_is_acknowledged(messaging: Messaging) -> None:
    appointment_id = book(messaging)
    first_reminder_sent(messaging)
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert day.appointment_id == appointment_id and day.reminder_state == "awaiting"
    client_texts(messaging, "c")
    deliver(messaging)
    assert texts_to_client(messaging)[-1] == "Thank you, your appointment is confirmed."
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert (day.reply, day.reminder_state) == (ReplyKind.CONFIRMED.value, "answered")


def test_a_second_answer_is_just_a_text(messaging: Messaging) -> None:
    book(messaging)
    first_reminder_sent(messaging)
    client_texts(messaging, "Y")
    client_texts(messaging, "N")
    deliver(messaging)
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert day.reply == ReplyKind.CONFIRMED.value
    assert texts_to_client(messaging).count("Thank you, your appointment is confirmed.") == 1
    assert not any("cannot come" in t for t in texts_to_client(messaging))


def test_y_with_no_reminder_awaiting_is_not_an_answer(messaging: Messaging) -> None:
    book(messaging)  # reminders planned, none sent yet
    client_texts(messaging, "Y")
    deliver(messaging)
    assert texts_to_client(messaging) == []
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert (day.reply, day.reminder_state) == (None, "none")


def test_r_asks_to_reschedule(messaging: Messaging) -> None:
    book(messaging)
    first_reminder_sent(messaging)
    client_texts(messaging, "R!")
    deliver(messaging)
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert day.reply == ReplyKind.RESCHEDULE.value
    assert "contact you" in texts_to_client(messaging)[-1]


def test_cancelling_the_appointment_cancels_its_reminders(messaging: Messaging) -> None:
    appointment_id = book(messaging)
    messaging.runtime.appointment_service().cancel(ADMIN, appointment_id)
    messaging.clock.advance(days=3)
    assert sweep(messaging)["sent"] == 0
    deliver(messaging)
    assert texts_to_client(messaging) == []


def test_an_unanswered_reminder_shows_as_awaiting_in_the_day_view(messaging: Messaging) -> None:
    book(messaging)
    first_reminder_sent(messaging)
    messaging.clock.advance(hours=20)  # Wednesday 15:01: the second reminder not yet due
    (day,) = messaging.runtime.appointment_service().day(ADMIN, THURSDAY)
    assert (day.reminder_state, day.reminders_sent) == ("awaiting", 1)


CSV = f"""phone,start,duration_minutes,id
{CLIENT_PHONE},2026-12-03 14:00,50,ehr-1
{OTHER_CLIENT_PHONE},2026-12-03 15:00,50,ehr-2
not-a-number,2026-12-03 16:00,50,ehr-3
"""


def test_a_csv_import_books_known_contacts_and_names_rows_it_could_not(
    messaging: Messaging,
) -> None:
    client_conversation(messaging)
    service = messaging.runtime.appointment_service()
    report = service.import_csv(ADMIN, CSV)
    assert (report.created, sorted((p.row, p.problem) for p in report.problems)) == (
        1,
        [(2, "is not a contact"), (3, "is not a phone number")],
    )
    again = service.import_csv(ADMIN, CSV)
    assert (again.created, again.unchanged) == (0, 1)
    moved = service.import_csv(ADMIN, CSV.replace("2026-12-03 14:00", "2026-12-02 09:00"))
    assert moved.updated == 1
    assert [d.start_local for d in service.day(ADMIN, date(2026, 12, 2))] == ["2026-12-02T09:00"]
    assert service.day(ADMIN, THURSDAY) == []


ICS = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:evt-1@ehr.example
DTSTART;TZID=America/New_York:20261201T090000
DTEND;TZID=America/New_York:20261201T095000
SUMMARY:Session - diagnosis that must not be kept
ATTENDEE;CN=Client:tel:{CLIENT_PHONE}
END:VEVENT
BEGIN:VEVENT
UID:evt-2@ehr.example
DTSTART:20261202T200000Z
SUMMARY:no phone here
END:VEVENT
END:VCALENDAR
"""


def test_an_ics_import_reads_the_time_and_number_and_keeps_no_summary(
    messaging: Messaging,
) -> None:
    client_conversation(messaging)
    service = messaging.runtime.appointment_service()
    report = service.import_ics(ADMIN, ICS.encode())
    assert report.created == 1 and [(p.row, p.field) for p in report.problems] == [(2, "ATTENDEE")]
    (day,) = service.day(ADMIN, None)  # tomorrow, by default: Tuesday 1 December
    assert (day.start_local, day.duration_minutes, day.source) == ("2026-12-01T09:00", 50, "ics")
    stored = str(messaging.table.scan()["Items"])
    assert "diagnosis" not in stored and "evt-1" not in stored
