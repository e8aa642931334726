"""The PHI-shaped values tests use. The log scan (tests/conftest.py) fails any test whose
captured output contains one of them, or anything shaped like an E.164 number."""

from __future__ import annotations

CLIENT_PHONE = "+12065550142"
OTHER_CLIENT_PHONE = "+14155550199"
BUSINESS_NUMBER = "+12065550100"
OTHER_BUSINESS_NUMBER = "+12065550123"

BODY = "Can we move Thursday's session? My anxiety has been worse this week."
OTHER_BODY = "Running 5 minutes late, sorry!"
LONG_BODY = "I have been thinking about what we discussed. " * 30

PHI_VALUES: tuple[str, ...] = (
    CLIENT_PHONE,
    OTHER_CLIENT_PHONE,
    CLIENT_PHONE.lstrip("+"),
    OTHER_CLIENT_PHONE.lstrip("+"),
    BODY,
    OTHER_BODY,
    "anxiety has been worse",
    "Thursday's session",
    "Running 5 minutes late",
)
