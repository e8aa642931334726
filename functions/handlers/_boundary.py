"""Hostile input stops here, before any parser runs: size, encoding, content type, JSON depth,
lone surrogates and duplicate keys.

Each public entry point calls one function of this module on what it received (the staff API
after authentication and authorization, so an anonymous junk request is still a 401). Every
refusal is a ValidationError naming the field and the rule, never the value (it may be PHI):
UnreadableBodyError (400), BodyTooLargeError (413), UnsupportedMediaTypeError (415), or a
plain ValidationError (422) for text that is not acceptable JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from functions.core.errors import (
    BodyTooLargeError,
    UnreadableBodyError,
    UnsupportedMediaTypeError,
    ValidationError,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# The largest legitimate JSON body (a 1,600-character text, every character escaped as a
# surrogate pair) is about 20 KB; a settings document is far smaller.
MAX_JSON_BYTES = 64 * 1024
# Our deepest document (settings.after_hours.hours[day][0]) is 5 levels deep.
MAX_JSON_DEPTH = 32
MAX_SNS_MESSAGE_BYTES = 256 * 1024  # SNS's own limit for one message

_STATUS = {UnreadableBodyError: 400, BodyTooLargeError: 413, UnsupportedMediaTypeError: 415}
# A JSON string (escapes included; unterminated runs to the end, where a parser stops too) or
# one bracket: enough to measure nesting in one linear pass, without parsing.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")


def status_of(error: ValidationError) -> int:
    """The HTTP status a refusal answers with (422 for well-formed text that is not acceptable)."""
    return next((s for kind, s in _STATUS.items() if isinstance(error, kind)), 422)


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, whatever case the client (or HTTP/2) gave its name."""
    headers = event.get("headers")
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    return next((str(v) for k, v in headers.items() if str(k).lower() == wanted), None)


def body_bytes(event: Mapping[str, Any], *, max_bytes: int) -> bytes:
    """The body as sent: base64-decoded if flagged, no larger than `max_bytes`."""
    body = event.get("body")
    if body is None or body == "":
        return b""
    if not isinstance(body, str):
        raise UnreadableBodyError("body", "must be text")
    encoded = event.get("isBase64Encoded") is True
    if len(body) > (max_bytes * 4 // 3 + 4 if encoded else max_bytes * 4):
        raise BodyTooLargeError("body", f"must be at most {max_bytes} bytes")
    try:
        data = base64.b64decode(body, validate=True) if encoded else body.encode("utf-8")
    except binascii.Error:
        raise UnreadableBodyError("body", "is not valid base64") from None
    except UnicodeEncodeError:  # a lone surrogate in the event's own text
        raise UnreadableBodyError("body", "is not UTF-8") from None
    if len(data) > max_bytes:
        raise BodyTooLargeError("body", f"must be at most {max_bytes} bytes")
    return data


def require_media_type(event: Mapping[str, Any], media_type: str) -> None:
    """Content-Type must name `media_type`, in UTF-8 if it names a charset at all.

    Spelled in lower case, as the parser behind reads it (Powertools picks its body parser
    by a case-sensitive prefix): a name it would misread is refused here instead.
    """
    value = header(event, "Content-Type")
    if value is None:
        raise UnsupportedMediaTypeError("Content-Type", f"is required and must be {media_type}")
    sent, *parameters = value.split(";")
    if sent.strip() != media_type:
        raise UnsupportedMediaTypeError("Content-Type", f"must be {media_type}")
    for parameter in parameters:
        name, _, charset = parameter.partition("=")
        if name.strip().lower() == "charset" and charset.strip().strip('"').lower() not in {
            "utf-8",
            "utf8",
        }:
            raise UnsupportedMediaTypeError("Content-Type", "charset must be utf-8")


def text_body(event: Mapping[str, Any], *, media_type: str, max_bytes: int) -> str:
    """The body as UTF-8 text of `media_type` ("" when there is none, whatever its type)."""
    data = body_bytes(event, max_bytes=max_bytes)
    if not data:
        return ""
    require_media_type(event, media_type)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBodyError("body", "is not UTF-8") from None


def form_body(event: Mapping[str, Any], *, max_bytes: int) -> bytes:
    """A form-encoded body's bytes, checked (size, base64, UTF-8, Content-Type), unparsed."""
    return text_body(event, media_type=FORM, max_bytes=max_bytes).encode("utf-8")


def json_body(event: Mapping[str, Any], *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """A JSON body, parsed only after every check passed; None when there is no body."""
    text = text_body(event, media_type=JSON, max_bytes=max_bytes)
    return parse_json(text, field="body") if text else None


def parse_json(text: str, *, field: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`text` as JSON, refused (naming `field`) if too deep, ambiguous or not Unicode."""
    depth = 0
    for token in _STRING_OR_BRACKET.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise ValidationError(field, f"must not nest deeper than {max_depth} levels")
        elif bracket in ("]", "}"):
            depth -= 1

    def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) != len(pairs):  # parsers disagree on which duplicate wins
            raise ValidationError(field, "must not repeat a key")
        return found

    def no_constant(name: str) -> Any:
        raise ValueError(name)  # NaN and Infinity are Python's extension, not JSON

    try:
        value = json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)
    except ValueError:
        raise ValidationError(field, "must be JSON") from None
    _refuse_lone_surrogates(value, field)
    return value


def _refuse_lone_surrogates(value: Any, field: str) -> None:
    # A "\ud800" escape parses to a string no UTF-8 encoder (DynamoDB, KMS, a phone) accepts.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValidationError(field, "must not contain unpaired surrogates")
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def sns_records(event: Any) -> list[Mapping[str, Any]]:
    """An SNS Lambda event's records, each message checked as JSON before any is acted on."""
    records = event.get("Records") if isinstance(event, Mapping) else None
    if not isinstance(records, list):
        raise ValidationError("Records", "must be a list")
    for record in records:
        sns = record.get("Sns") if isinstance(record, Mapping) else None
        message = sns.get("Message") if isinstance(sns, Mapping) else None
        if not isinstance(message, str):
            raise ValidationError("Sns.Message", "is required and must be a string")
        if len(message.encode("utf-8", "surrogatepass")) > MAX_SNS_MESSAGE_BYTES:
            raise BodyTooLargeError("Sns.Message", f"must be at most {MAX_SNS_MESSAGE_BYTES} bytes")
        parse_json(message, field="Sns.Message")
    return records
