"""Reading the message table's stream records: an inbound message's insert, nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from functions.core.errors import ValidationError
from functions.core.models import Direction
from functions.dal.store.stream import new_inbound_message, new_message
from functions.logic.staff_alerts import NewInboundMessage

pytestmark = pytest.mark.unit


def _record(event: str = "INSERT", sk: str = "MSG#01J", **image: Any) -> dict[str, Any]:
    attributes = {"sk": sk, "direction": "inbound", "tenant_id": "harbor", **image}
    return {
        "eventName": event,
        "dynamodb": {
            "NewImage": {name: {"S": value} for name, value in attributes.items() if value},
            "SequenceNumber": "1100000000017454423009",
        },
    }


def test_an_inbound_message_insert_names_its_tenant_and_stream_position() -> None:
    assert new_inbound_message(_record()) == NewInboundMessage("harbor", "1100000000017454423009")


@pytest.mark.parametrize(
    "record",
    [
        _record(event="MODIFY"),  # a status change, a read mark
        _record(event="REMOVE"),  # TTL expiry, a deleted thread
        _record(direction="outbound"),  # a reply or a staff send
        _record(sk="CONV#abc"),  # the conversation item (last_direction, not direction)
        {"eventName": "INSERT", "dynamodb": {"Keys": {}}},  # a KEYS_ONLY image
    ],
)
def test_every_other_change_is_ignored(record: dict[str, Any]) -> None:
    assert new_inbound_message(record) is None


def test_a_message_insert_without_its_tenant_fails_loudly() -> None:
    # Lambda retries the batch, then leaves it in the DLQ (alarmed): not a silent drop.
    with pytest.raises(ValidationError):
        new_inbound_message(_record(tenant_id=""))


@pytest.mark.parametrize("direction", [Direction.INBOUND, Direction.OUTBOUND])
def test_any_new_message_is_read_with_its_direction(direction: Direction) -> None:
    # The live notifier tells open inboxes of both; only an inbound one is e-mailed or pushed
    assert new_message(_record(direction=direction.value)) == (
        NewInboundMessage("harbor", "1100000000017454423009"),
        direction,
    )


def test_a_status_change_is_not_a_new_message() -> None:
    assert new_message(_record(event="MODIFY", direction="outbound")) is None
