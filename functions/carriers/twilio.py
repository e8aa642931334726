"""Twilio Programmable Messaging: webhook signatures and payloads, and sending over HTTPS.

Stdlib only (urllib, hmac): the twilio package would be one more dependency in the PHI path.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from functions.carriers.models import (
    Carrier,
    DeliveryEvent,
    InboundSms,
    OutboundSms,
    SendResult,
    require_phone,
)
from functions.carriers.timestamps import normalize_iso, utc_now
from functions.core.errors import (
    PermanentCarrierError,
    SignatureError,
    TransientCarrierError,
    ValidationError,
)
from functions.core.models import MessageStatus

CARRIER = "twilio"
# Where Twilio posts: the deployed API, local mode and the StatusCallback all use these.
SMS_WEBHOOK_PATH = "/webhooks/twilio/sms"
STATUS_WEBHOOK_PATH = "/webhooks/twilio/status"
SIGNATURE_HEADER = "X-Twilio-Signature"
API_VERSION = "2010-04-01"

Params = Mapping[str, str | Sequence[str]]

_DEFAULT_PORTS = {"https": 443, "http": 80}
# Webhooks carry ~40 fields plus two per media item (at most 10); anything far beyond is not Twilio.
_MAX_FORM_FIELDS = 200
MAX_ERROR_BODY = 64 * 1024
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_ERROR_CODE_SHAPE = re.compile(r"\d{1,8}")
_SID_SHAPE = re.compile(r"[A-Za-z0-9]{2,64}")
# Twilio error 21610: "Attempt to send to unsubscribed recipient" (the client texted STOP).
_OPTED_OUT_CODES = frozenset({21610})

_STATUS_MAP: dict[str, MessageStatus | None] = {
    # Intermediate: Twilio holds it but has not handed it on; nothing for us to record.
    "accepted": None,
    "scheduled": None,
    "queued": None,
    "sending": None,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.DELIVERED,
    "undelivered": MessageStatus.FAILED,
    "failed": MessageStatus.FAILED,
    "canceled": MessageStatus.FAILED,
}


# --- signatures ---------------------------------------------------------------------
def _values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def compute_signature(auth_token: str, url: str, params: Params) -> str:
    """Base64 HMAC-SHA1, keyed by the Auth Token, of the URL followed by each parameter's
    name and value (names sorted, a repeated name's values sorted), without separators."""
    parts = [url]
    for name in sorted(params):
        parts.extend(name + value for value in sorted(_values(params[name])))
    digest = hmac.new(auth_token.encode(), "".join(parts).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _url_variants(url: str) -> list[str]:
    """The URL as given, plus it with its default port dropped or added.

    A proxy or load balancer may add or strip ":443" between what Twilio signed and what
    we reconstruct; Twilio's own validators accept both forms, and so do we.
    """
    variants = [url]
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return variants
    default = _DEFAULT_PORTS.get(parts.scheme.lower())
    if default is None or not parts.hostname:
        return variants
    # Edit the netloc text itself: hostname would lowercase it and change what was signed.
    if port is None:
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}")))
    elif port == default:
        netloc = parts.netloc.rsplit(":", 1)[0]
        variants.append(urllib.parse.urlunsplit(parts._replace(netloc=netloc)))
    return variants


def validate_signature(
    auth_token: str, url: str | Sequence[str], params: Params, signature: str | None
) -> None:
    """Raise SignatureError unless `signature` is Twilio's for these params and the URL
    (or one of the URLs) Twilio may have signed."""
    if not auth_token:
        # An empty key would let anyone compute valid signatures.
        raise SignatureError("no auth token configured")
    if not signature:
        raise SignatureError("signature missing")
    given = signature.strip().encode()
    matched = False
    for signed in [url] if isinstance(url, str) else url:
        for candidate in _url_variants(signed):
            expected = compute_signature(auth_token, candidate, params).encode()
            # Constant time, and every candidate checked, so timing reveals nothing.
            matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise SignatureError("signature does not match")


# --- the URL Twilio signed ------------------------------------------------------------
# Twilio signs the webhook URL exactly as configured in its console (or as we passed it as
# StatusCallback). API Gateway REST events carry the query only decoded and unordered
# (multiValueQueryStringParameters), so that exact text cannot be read back from the
# event: a configured URL that matches the request is used verbatim, and only without
# one is the query rebuilt.
# RFC 3986 lets these stand unencoded in a query, and a URL typed into the console keeps
# them as typed; '&', '=', '+', '#', '%' and spaces are encoded (a space as %20).
_QUERY_SAFE = "/?:@!$'()*,;"


def rebuild_query(params: Mapping[str, str | Sequence[str]]) -> str:
    """A query string for decoded params, in the order given, encoding only what must be.

    Exact for queries written that way (e.g. ?next=/a/b&at=12:30&name=a%20b) when the
    order survives; anything else needs the URL configured (`matches_request`).
    """

    def encode(text: str) -> str:
        return urllib.parse.quote(text, safe=_QUERY_SAFE)

    return "&".join(
        f"{encode(name)}={encode(value)}" for name, vs in params.items() for value in _values(vs)
    )


def _query_pairs(query: str, *, plus_is_space: bool) -> list[tuple[str, str]]:
    text = query if plus_is_space else query.replace("+", "%2B")
    return sorted(urllib.parse.parse_qsl(text, keep_blank_values=True))


def matches_request(url: str, resource: str, params: Mapping[str, str | Sequence[str]]) -> bool:
    """Whether `url`, as configured in Twilio, is the one this request was made to: its
    path ends with the route's `resource` and its query decodes to exactly `params`.

    Whether API Gateway reads a '+' in the query as a space is not documented (reports
    differ), so either reading of the configured URL's '+' counts as a match; nothing we
    act on from a query can contain either.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    if not resource or not parts.path.endswith(resource):
        return False
    received = sorted((name, value) for name, vs in params.items() for value in _values(vs))
    return any(_query_pairs(parts.query, plus_is_space=plus) == received for plus in (True, False))


def validate_json_signature(
    auth_token: str, url: str, raw_body: bytes, signature: str | None
) -> None:
    """JSON webhooks: the URL's bodySHA256 must be the body's hex SHA-256, and the
    signature covers the URL alone (which therefore pins the body)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query, keep_blank_values=True)
    claimed = query.get("bodySHA256", [])
    if len(claimed) != 1:
        raise SignatureError("bodySHA256 missing")
    actual = hashlib.sha256(raw_body).hexdigest().encode()
    if not hmac.compare_digest(actual, claimed[0].lower().encode()):
        raise SignatureError("body hash does not match")
    validate_signature(auth_token, url, {}, signature)


# --- webhook payloads ---------------------------------------------------------------
def parse_form(body: bytes) -> dict[str, list[str]]:
    """A form-encoded webhook body; blank values kept, since they are signed too."""
    try:
        text = body.decode("utf-8")
        return urllib.parse.parse_qs(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except UnicodeDecodeError:
        raise ValidationError("body", "is not UTF-8 form data") from None
    except ValueError:
        raise ValidationError("body", "has too many fields") from None


def _single(params: Params, name: str, field: str) -> str | None:
    if name not in params:
        return None
    values = _values(params[name])
    if len(values) != 1:
        raise ValidationError(field, "must appear exactly once")
    return values[0]


def _required(params: Params, name: str, field: str) -> str:
    value = _single(params, name, field)
    if not value:
        raise ValidationError(field, "is required")
    return value


def _received_at(value: str | None) -> str:
    return utc_now() if value is None else normalize_iso(value, field="received_at")


def parse_inbound(params: Params, *, received_at: str | None = None) -> InboundSms:
    """An inbound text from webhook params (as parse_form returns them, or single values).

    Unknown params are ignored (Twilio adds them without notice) and so is media; a missing
    Body is a media-only text, so "". `received_at` defaults to now: Twilio sends no time.
    """
    body = _single(params, "Body", "body")
    return InboundSms(
        carrier=CARRIER,
        carrier_message_id=_required(params, "MessageSid", "carrier_message_id"),
        from_number=_required(params, "From", "from"),
        to_number=_required(params, "To", "to"),
        body="" if body is None else body,
        received_at=_received_at(received_at),
    )


def parse_status(params: Params, *, received_at: str | None = None) -> DeliveryEvent:
    """A status callback; occurred_at is when we got it (callbacks carry no timestamp).

    Unknown statuses are ignored (None) like intermediate ones: Twilio adds values too.
    The recipient (To), when sent, must be E.164 like every number a carrier gives us;
    From may be a sender id (a Messaging Service can send from one), so it is not held
    to that.
    """
    recipient = _single(params, "To", "to")
    if recipient is not None:
        require_phone(recipient, "to")
    status_name = _required(params, "MessageStatus", "MessageStatus").strip().lower()
    status = _STATUS_MAP.get(status_name)
    reason = None
    if status is MessageStatus.FAILED:
        code = (_single(params, "ErrorCode", "ErrorCode") or "").strip()
        # Only a numeric code or our own status word: nothing free-form reaches storage.
        reason = f"twilio:{code}" if _ERROR_CODE_SHAPE.fullmatch(code) else f"twilio:{status_name}"
    return DeliveryEvent(
        carrier=CARRIER,
        carrier_message_id=_required(params, "MessageSid", "carrier_message_id"),
        status=status,
        message_id=None,  # Twilio does not echo ours; the carrier id finds the message
        reason=reason,
        occurred_at=_received_at(received_at),
    )


# --- sending ------------------------------------------------------------------------
def check_base_url(base_url: str, field: str = "base_url") -> str:
    """A Twilio REST (or webhook) base URL without its trailing slash; ValidationError
    naming `field` unless it is https (http only on loopback)."""
    parts = urllib.parse.urlsplit(base_url)
    loopback = parts.hostname in _LOOPBACK_HOSTS
    # TLS always, except a loopback stand-in (tests, local mode) that never leaves the host.
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ValidationError(field, "must be https (http only on loopback)")
    return base_url.rstrip("/")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect with our Authorization header; Twilio never redirects."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # so the 3xx surfaces as an HTTPError: a permanent failure


def default_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirects())


def error_code(body: bytes) -> int | None:
    """Twilio's numeric error code in a REST error body, if it carries one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    code = payload.get("code") if isinstance(payload, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def basic_credentials(account_sid: object, auth_token: object) -> str:
    """The HTTP basic-auth value for Twilio's REST API; ValidationError naming the field
    (never its value) for a malformed account SID or an empty token."""
    if not isinstance(account_sid, str) or not _SID_SHAPE.fullmatch(account_sid):
        raise ValidationError("account_sid", "is not a Twilio account SID")
    if not isinstance(auth_token, str) or not auth_token:
        raise ValidationError("auth_token", "is required")
    return base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()


class TwilioCarrier:
    """Implements functions.carriers.models.Carrier over Twilio's Messages REST API."""

    name: str = CARRIER

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        base_url: str = "https://api.twilio.com",
        status_callback_url: str | None = None,
        opener: urllib.request.OpenerDirector | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._credentials = basic_credentials(account_sid, auth_token)
        self._account_sid = account_sid
        self._base_url = check_base_url(base_url)
        self._status_callback_url = status_callback_url
        self._opener = opener or default_opener()
        self._timeout = timeout

    @property
    def messages_url(self) -> str:
        return f"{self._base_url}/{API_VERSION}/Accounts/{self._account_sid}/Messages.json"

    def _form(self, sms: OutboundSms) -> dict[str, str]:
        # A Messaging Service SID picks the sender from its pool; anything else is a number.
        sender_field = "MessagingServiceSid" if sms.origination_number.startswith("MG") else "From"
        form = {
            sender_field: sms.origination_number,
            "To": sms.destination_number,
            "Body": sms.body,
        }
        if self._status_callback_url:
            form["StatusCallback"] = self._status_callback_url
        return form

    def _request(self, sms: OutboundSms) -> urllib.request.Request:
        return urllib.request.Request(  # noqa: S310 - scheme checked in check_base_url
            self.messages_url,
            data=urllib.parse.urlencode(self._form(sms)).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {self._credentials}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": "quietline",
            },
        )

    def send(self, sms: OutboundSms) -> SendResult:
        try:
            with self._opener.open(self._request(sms), timeout=self._timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as error:
            raise self._translate(error) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException):
            raise TransientCarrierError("twilio:unreachable") from None
        try:
            payload = json.loads(body)
            sid = payload["sid"]
        except (ValueError, KeyError, TypeError):
            sid = None
        if not isinstance(sid, str) or not sid:
            # Twilio accepted something; retrying could text the client twice.
            raise PermanentCarrierError("twilio:unreadable-response")
        return SendResult(sid)

    @staticmethod
    def _translate(error: urllib.error.HTTPError) -> PermanentCarrierError | TransientCarrierError:
        status = error.code
        try:
            body = error.read(MAX_ERROR_BODY)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            error.close()
        # Only the numeric code: the error's message text can quote the destination number.
        code = error_code(body)
        reason = f"twilio:{code}" if code is not None else f"twilio:http-{status}"
        if status == 429 or status >= 500:
            return TransientCarrierError(reason)
        return PermanentCarrierError(reason, recipient_opted_out=code in _OPTED_OUT_CODES)


if TYPE_CHECKING:
    _conforms: Carrier = TwilioCarrier("AC0", "token")
