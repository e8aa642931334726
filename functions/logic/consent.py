"""A client's recorded choice of how to receive messages, and the checks before sending.

Plain SMS puts message text on the phone and the carrier network unencrypted, so it needs
the client's informed, recorded consent (who captured it, when, which wording); otherwise
messages go as a secure link. A client who texted STOP gets nothing at all until START.
The record types live in functions.core.models (Conversation holds one).
"""

from __future__ import annotations

from functions.core.errors import ConsentRequiredError, OptedOutError
from functions.core.models import ConsentMode, ConsentRecord

__all__ = ["ConsentMode", "ConsentRecord", "check_can_send_plain_sms", "check_can_send_secure_link"]


def check_can_send_plain_sms(consent: ConsentRecord | None, opted_out: bool) -> None:
    """Raise unless message text may go out as plain SMS. Opt-out wins over any consent."""
    if opted_out:
        raise OptedOutError()
    if consent is None or consent.mode is not ConsentMode.PLAIN_SMS:
        raise ConsentRequiredError()


def check_can_send_secure_link(opted_out: bool) -> None:
    """A secure-link notice is still a text: an opted-out client gets none either."""
    if opted_out:
        raise OptedOutError()
