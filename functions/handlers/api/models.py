"""The staff API's request bodies and query parameters (validated by Powertools + pydantic)."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, ConfigDict, Field

from functions.core.models import ConsentMode
from functions.logic.access import Role


class _Body(BaseModel):
    # A body's validator is built when a request first needs it (one route's), not at import.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class SendMessage(_Body):
    body: str = Field(min_length=1, max_length=1600)
    # plain: the text itself (needs plain_sms consent); secure_link: a link to a page
    # where the client verifies with a one-time code before the message shows.
    mode: Literal["plain", "secure_link"] = "plain"


class Assignment(_Body):
    user_id: str | None = Field(default=None, max_length=64)


class Consent(_Body):
    mode: ConsentMode
    wording_version: str = Field(min_length=1, max_length=32)


class NewContact(_Body):
    phone_number: str = Field(min_length=3, max_length=32)
    display_name: str | None = Field(default=None, max_length=100)
    consent: Consent


class ContactChange(_Body):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    consent: Consent | None = None


class Template(_Body):
    name: str = Field(min_length=1, max_length=80)
    body: str = Field(min_length=1, max_length=1600)


Weekday = Literal["1", "2", "3", "4", "5", "6", "7"]


def _weekdays_nine_to_five() -> dict[Weekday, tuple[str, str]]:
    return {
        "1": ("09:00", "17:00"),
        "2": ("09:00", "17:00"),
        "3": ("09:00", "17:00"),
        "4": ("09:00", "17:00"),
        "5": ("09:00", "17:00"),
    }


# Booleans and integers are strict: the document says `boolean`/`integer`, so 0, "true" or
# "720" are refused as the schema says, not coerced (pydantic's lax default).
class AfterHoursSettings(_Body):
    enabled: bool = Field(default=False, strict=True)
    timezone: str = Field(default="America/New_York", max_length=64)
    hours: dict[Weekday, tuple[str, str]] = Field(default_factory=_weekdays_nine_to_five)
    text: str = Field(default="", max_length=320)
    window_minutes: int = Field(default=720, ge=1, le=10_080, strict=True)
    holidays: list[Annotated[str, Field(max_length=10)]] = Field(
        default_factory=list, max_length=100
    )


class Settings(_Body):
    help_reply: str = Field(default="", max_length=320)
    stop_reply: str = Field(default="", max_length=320)
    start_reply: str = Field(default="", max_length=320)
    max_body_chars: int = Field(default=1600, ge=1, le=1600, strict=True)
    after_hours: AfterHoursSettings = AfterHoursSettings()


class Invitation(_Body):
    email: str = Field(min_length=3, max_length=254)
    role: Role


Limit = Annotated[int, Query(ge=1, description="Page size; values above 100 are clamped to 100.")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="Opaque cursor from the last page.")
]
Since = Annotated[
    str | None,
    Query(
        max_length=2048,
        description="The `since` mark of the last listing: answer only what changed after it.",
    ),
]
After = Annotated[
    str | None,
    Query(
        pattern="^[0-9A-HJKMNP-TV-Z]{26}$",
        description="A message id: answer only messages newer than it.",
    ),
]
