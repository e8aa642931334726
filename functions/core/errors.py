"""Every exception Quietline raises on purpose, in one place.

Messages never carry PHI (phone numbers, bodies, names): they name the field or the
rule that failed, so an error can be logged or returned without leaking anything.
"""

from __future__ import annotations


class QuietlineError(Exception):
    """Base class: anything raised deliberately by Quietline code."""


# --- input -------------------------------------------------------------------------
class ValidationError(QuietlineError):
    """Input failed validation; `field` names what was wrong (never its value)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class InvalidPhoneNumberError(ValidationError):
    def __init__(
        self,
        field: str = "phone_number",
        problem: str = "must be a valid phone number in E.164 form (+, country code, number)",
    ) -> None:
        super().__init__(field, problem)


class RequestBodyError(ValidationError):
    """A request body refused at the boundary (functions/handlers/_boundary.py), unparsed."""


class UnreadableBodyError(RequestBodyError):
    """The body is not what it claims to be: bad base64, or not UTF-8 (400)."""


class BodyTooLargeError(RequestBodyError):
    """The body exceeds the entry point's limit (413)."""


class UnsupportedMediaTypeError(RequestBodyError):
    """The body's Content-Type is missing or not the one the entry point reads (415)."""


class InvalidCursorError(ValidationError):
    def __init__(self) -> None:
        super().__init__("cursor", "is not a cursor this listing issued")


# --- data access --------------------------------------------------------------------
class NotFoundError(QuietlineError):
    """The item does not exist (or belongs to another tenant: callers must not tell)."""


class ConflictError(QuietlineError):
    """A conditional write lost: the item exists or changed underneath us."""


class DuplicateError(ConflictError):
    """The same carrier message was already stored (idempotent replay)."""


class NotOutboundError(QuietlineError):
    """A delivery status was reported for an inbound message: only outbound ones have one."""


class ThrottledError(QuietlineError):
    """AWS throttled the call; retry with backoff."""


class DependencyError(QuietlineError):
    """An AWS dependency failed in a way that may succeed on retry (5xx, timeouts)."""


class TenantUnavailableError(QuietlineError):
    """The tenant is unknown, or was wiped and is refused."""


# --- cryptography -------------------------------------------------------------------
class CryptoError(QuietlineError):
    """Base for envelope-encryption failures; never returns partial plaintext."""


class MalformedRecordError(CryptoError):
    """The stored record is truncated or not in a format we can parse."""


class UnsupportedVersionError(CryptoError):
    """The stored record's format version is unknown to this code."""


class DecryptionError(CryptoError):
    """Authentication failed: wrong context, wrong key, or tampered bytes."""


class KeyUnavailableError(CryptoError):
    """The tenant's KMS key is disabled, pending deletion or gone (crypto-shredded)."""


# --- carriers -----------------------------------------------------------------------
class CarrierError(QuietlineError):
    """A carrier refused or failed a send; `reason` is a short code, safe to store (no PHI)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermanentCarrierError(CarrierError):
    """Retrying cannot help: mark the message failed with `reason`.

    `recipient_opted_out` is set when the carrier refused because the recipient opted out,
    so the caller can record the opt-out even if the STOP never reached us.
    """

    def __init__(self, reason: str, *, recipient_opted_out: bool = False) -> None:
        super().__init__(reason)
        self.recipient_opted_out = recipient_opted_out


class TransientCarrierError(CarrierError):
    """Throttling, a 5xx or a timeout: retry with backoff."""


class SignatureError(QuietlineError):
    """A webhook's signature is missing or wrong: answer 403 and act on nothing in it."""

    def __init__(self, problem: str = "signature does not match") -> None:
        super().__init__(problem)
        self.problem = problem


# --- consent ------------------------------------------------------------------------
class OptedOutError(QuietlineError):
    """The recipient texted STOP (or the carrier says so); nothing may be sent until START."""

    def __init__(self) -> None:
        super().__init__("recipient opted out; they must text START")


class ConsentRequiredError(QuietlineError):
    """Plain SMS carries PHI unencrypted to the phone: only with the client's recorded consent."""

    def __init__(self) -> None:
        super().__init__("plain SMS needs the client's recorded plain_sms consent")


# --- staff access ---------------------------------------------------------------------
class UnauthorizedError(QuietlineError):
    """No valid, live session: the caller must sign in (401)."""


class SessionExpiredError(UnauthorizedError):
    """Idle longer than the automatic-logoff limit, or signed out everywhere (401)."""


class ForbiddenError(QuietlineError):
    """Signed in, but this role may not do this (403)."""


class AppLockedError(QuietlineError):
    """The session is behind the app lock: only unlocking, sign-out and refresh pass (423)."""


# --- secure links -----------------------------------------------------------------------
class LinkUnavailableError(QuietlineError):
    """The secure link is unknown, expired or already spent (410: ask the practice again)."""


class LinkLockedError(QuietlineError):
    """Too many wrong codes: the link is locked for good (423)."""


class InvalidCodeError(QuietlineError):
    """The code is wrong or expired (401); `attempts_left` before the link locks."""

    def __init__(self, attempts_left: int) -> None:
        super().__init__("the code is not right")
        self.attempts_left = attempts_left
