"""AWS End User Messaging SMS (pinpoint-sms-voice-v2): inbound and event parsing, and sending.

Inbound texts arrive on an SNS topic (no public URL to spoof); delivery reports arrive as
EventBridge events. Our message id rides in the send's Context and comes back in each event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError

from functions.carriers.models import (
    Carrier,
    DeliveryEvent,
    InboundSms,
    OutboundSms,
    SendResult,
    require_phone,
    require_text,
)
from functions.carriers.timestamps import from_epoch_ms, normalize_iso, utc_now
from functions.core.errors import (
    PermanentCarrierError,
    TransientCarrierError,
    ValidationError,
)
from functions.core.models import MessageStatus
from functions.dal import aws

CARRIER = "aws"
SERVICE = "pinpoint-sms-voice-v2"
DELIVERY_DETAIL_TYPE = "Text Message Delivery Status Updated"
CONTEXT_MESSAGE_ID = "quietline_message_id"
CONTEXT_TENANT_ID = "tenant_id"

# Depending on the destination country, either one is the final success event.
_SUCCESS_EVENTS = frozenset({"TEXT_DELIVERED", "TEXT_SUCCESSFUL"})
# Documented failures; any other final non-success event type fails too.
FAILURE_EVENTS = frozenset(
    {
        "TEXT_BLOCKED",
        "TEXT_CARRIER_BLOCKED",
        "TEXT_SPAM",
        "TEXT_TTL_EXPIRED",
        "TEXT_PROTECT_BLOCKED",
        "TEXT_INVALID",
        "TEXT_INVALID_MESSAGE",
        "TEXT_UNREACHABLE",
        "TEXT_CARRIER_UNREACHABLE",
        "TEXT_UNKNOWN",
    }
)

_TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
# Modeled `Reason` values are enums (e.g. DESTINATION_PHONE_NUMBER_OPTED_OUT); anything not
# shaped like one is dropped rather than stored, in case it ever carries free text.
_CODE_SHAPE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_OPTED_OUT_REASONS = frozenset({"DESTINATION_PHONE_NUMBER_OPTED_OUT"})


def _json_object(text: Any, field: str) -> dict[str, Any]:
    if not isinstance(text, str | bytes):
        raise ValidationError(field, "must be a JSON string")
    try:
        payload = json.loads(text)
    except ValueError:
        raise ValidationError(field, "is not valid JSON") from None
    if not isinstance(payload, dict):
        raise ValidationError(field, "must be a JSON object")
    return payload


def parse_sns_inbound(record_message: str, *, received_at: str | None = None) -> InboundSms:
    """An inbound text from the JSON string in `Records[].Sns.Message`.

    `received_at` (ISO 8601 with an offset, e.g. the record's Sns.Timestamp) defaults to now.
    """
    payload = _json_object(record_message, "message")
    return InboundSms(
        carrier=CARRIER,
        carrier_message_id=require_text(payload.get("inboundMessageId"), "carrier_message_id"),
        from_number=require_text(payload.get("originationNumber"), "from"),
        to_number=require_text(payload.get("destinationNumber"), "to"),
        body=require_text(payload.get("messageBody"), "body", allow_empty=True),
        received_at=(
            utc_now() if received_at is None else normalize_iso(received_at, field="timestamp")
        ),
    )


def parse_sns_record(record: Mapping[str, Any]) -> InboundSms:
    """An inbound text from one SNS Lambda record, stamped with SNS's publish time."""
    sns = record.get("Sns") if isinstance(record, Mapping) else None
    if not isinstance(sns, Mapping):
        raise ValidationError("Sns", "is required")
    timestamp = sns.get("Timestamp")
    return parse_sns_inbound(
        require_text(sns.get("Message"), "Sns.Message"),
        received_at=None if timestamp is None else require_text(timestamp, "timestamp"),
    )


def _status_for(event_type: str, is_final: bool) -> MessageStatus:
    # Our FAILED and DELIVERED are terminal, so only a final event may set them; anything
    # earlier proves the carrier holds the text (SENT), which also repairs a message whose
    # 'sent' write was lost after the send. Status ranks keep it from regressing anything.
    if not is_final:
        return MessageStatus.SENT
    return MessageStatus.DELIVERED if event_type in _SUCCESS_EVENTS else MessageStatus.FAILED


def parse_delivery_event(event: Mapping[str, Any]) -> DeliveryEvent:
    """A delivery report from the EventBridge event (or its bare `detail`, as SNS and
    Firehose event destinations deliver it).

    Final success -> DELIVERED; any other final event -> FAILED, reason = eventType;
    non-final events (TEXT_QUEUED, TEXT_PENDING, ...) -> SENT.
    """
    if not isinstance(event, Mapping):
        raise ValidationError("event", "must be an object")
    if "detail-type" in event and event["detail-type"] != DELIVERY_DETAIL_TYPE:
        raise ValidationError("detail-type", "is not a text message delivery status event")
    detail = event.get("detail", event)
    if not isinstance(detail, Mapping):
        raise ValidationError("detail", "must be an object")

    event_type = detail.get("eventType")
    if not isinstance(event_type, str) or not _CODE_SHAPE.fullmatch(event_type):
        raise ValidationError("eventType", "must be an event type such as TEXT_DELIVERED")
    is_final = detail.get("isFinal")
    if not isinstance(is_final, bool):
        raise ValidationError("isFinal", "must be true or false")
    if detail.get("destinationPhoneNumber") is not None:
        # The client's number: E.164 like every number a carrier gives us. The origination
        # side may be a sender id or pool, so it is not held to that.
        require_phone(detail["destinationPhoneNumber"], "destinationPhoneNumber")
    context = detail.get("context")
    message_id = context.get(CONTEXT_MESSAGE_ID) if isinstance(context, Mapping) else None

    status = _status_for(event_type, is_final)
    return DeliveryEvent(
        carrier=CARRIER,
        carrier_message_id=require_text(detail.get("messageId"), "carrier_message_id"),
        status=status,
        message_id=message_id if isinstance(message_id, str) and message_id else None,
        reason=event_type if status is MessageStatus.FAILED else None,
        occurred_at=from_epoch_ms(detail.get("eventTimestamp"), field="eventTimestamp"),
    )


def _translate(error: ClientError) -> PermanentCarrierError | TransientCarrierError:
    """By code, never message text (which may echo the destination number)."""
    code = aws.error_code(error) or "UnknownError"
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in _TRANSIENT_CODES or (isinstance(status, int) and (status >= 500 or status == 429)):
        return TransientCarrierError(code)
    # Everything else is the request or the account: ValidationException, ConflictException
    # (e.g. opted-out destination), AccessDeniedException, ResourceNotFoundException, and
    # ServiceQuotaExceededException (a monthly spend limit will not lift within any retry
    # window; a visible failure the practice can resend beats days of silent retries).
    raw_reason = error.response.get("Reason")
    reason = raw_reason if isinstance(raw_reason, str) and _CODE_SHAPE.fullmatch(raw_reason) else ""
    return PermanentCarrierError(
        f"{code}:{reason}" if reason else code,
        recipient_opted_out=reason in _OPTED_OUT_REASONS,
    )


class AwsSmsCarrier:
    """Implements functions.carriers.models.Carrier over SendTextMessage."""

    name: str = CARRIER

    def __init__(self, client: Any, configuration_set: str | None = None) -> None:
        self.client = client
        self._configuration_set = configuration_set

    def send_request(self, sms: OutboundSms) -> dict[str, Any]:
        """The exact SendTextMessage parameters for `sms`."""
        request: dict[str, Any] = {
            "DestinationPhoneNumber": sms.destination_number,
            "OriginationIdentity": sms.origination_number,
            "MessageBody": sms.body,
            "MessageType": "TRANSACTIONAL",
            # Copied into every delivery event: how an event finds our message.
            "Context": {CONTEXT_MESSAGE_ID: sms.message_id, CONTEXT_TENANT_ID: sms.tenant_id},
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return request

    def send(self, sms: OutboundSms) -> SendResult:
        try:
            response = self.client.send_text_message(**self.send_request(sms))
        except ClientError as error:
            raise _translate(error) from None
        except ParamValidationError:
            # Rejected before leaving the process; its message may quote the values.
            raise PermanentCarrierError("ParamValidationError") from None
        except BotoCoreError as error:
            # Connection failures and timeouts, after botocore's own retries.
            raise TransientCarrierError(type(error).__name__) from None
        message_id = response.get("MessageId")
        if not isinstance(message_id, str) or not message_id:
            raise PermanentCarrierError("MissingMessageId")
        return SendResult(message_id)


if TYPE_CHECKING:
    _conforms: Carrier = AwsSmsCarrier(client=None)
