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
    def __init__(self, field: str = "phone_number") -> None:
        super().__init__(
            field, "must be a valid phone number in E.164 form (+, country code, number)"
        )


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
