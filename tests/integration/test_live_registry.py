"""Live-update tickets and sockets on moto DynamoDB, and the socket handler's frames."""

from __future__ import annotations

import json
from typing import Any

import pytest

from functions.container import Container, Ports
from functions.core.settings import Settings
from functions.dal.live import DynamoDbLiveRegistry
from functions.handlers import live_notifier, live_socket
from functions.logic.live import LiveConnection
from local.apigw import LambdaContext
from tests.integration.conftest import TABLE_NAME
from tests.unit.test_live_updates import CLINICIAN, RecordingPublisher

pytestmark = pytest.mark.integration


def test_a_ticket_is_taken_once(table: Any) -> None:
    registry = DynamoDbLiveRegistry(table)
    registry.put_ticket("d1", "harbor", "user-1", 123)
    assert registry.take_ticket("d1") == ("harbor", "user-1", 123)
    assert registry.take_ticket("d1") is None


def test_a_removed_socket_leaves_the_tenant_listing(table: Any) -> None:
    registry = DynamoDbLiveRegistry(table)
    registry.add_connection(LiveConnection("s1", "harbor", "user-1"), 999)
    registry.add_connection(LiveConnection("s2", "harbor", "user-2"), 999)
    registry.remove_connection("s1")
    assert registry.connections("harbor") == [LiveConnection("s2", "harbor", "user-2")]
    assert registry.connections("cedar") == []


def _socket_event(route: str, connection_id: str, body: str | None = None) -> dict[str, Any]:
    return {"requestContext": {"routeKey": route, "connectionId": connection_id}, "body": body}


def test_an_authenticated_socket_hears_of_a_new_inbound_message(table: Any, clients: Any) -> None:
    # Given a socket that sent a valid ticket as its first frame
    publisher = RecordingPublisher()
    settings = Settings(table_name=TABLE_NAME, live_management_url="https://ws.example")
    runtime = Container(settings, clients=clients, ports=Ports(live_publisher=publisher))
    ticket = runtime.live_service().ticket(CLINICIAN)
    on_socket = live_socket.handler.bound(runtime)
    context = LambdaContext("live-socket")
    assert on_socket(_socket_event("$connect", "s1"), context) == {"statusCode": 200}
    frame = json.dumps({"action": "auth", "ticket": ticket})
    answer = on_socket(_socket_event("auth", "s1", frame), context)
    assert (answer["statusCode"], json.loads(answer["body"])) == (200, {"type": "ready"})
    # When the stream announces an inbound message of its tenant
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "100",
            "NewImage": {
                "sk": {"S": "MSG#01J"},
                "direction": {"S": "inbound"},
                "tenant_id": {"S": "harbor"},
                "conversation_id": {"S": "conv-1"},
            },
        },
    }
    live_notifier.handler.bound(runtime)({"Records": [record]}, LambdaContext("live-notifier"))
    # Then the socket is told which conversation changed, and nothing else
    assert [(s, json.loads(f)) for s, f in publisher.frames] == [
        ("s1", {"type": "changed", "conversation_id": "conv-1"})
    ]
    # And after $disconnect it is told nothing more
    on_socket(_socket_event("$disconnect", "s1"), context)
    assert DynamoDbLiveRegistry(table).connections("harbor") == []


def test_an_open_inbox_hears_of_a_message_the_practice_sent_without_it(
    table: Any, clients: Any
) -> None:
    # Given an authenticated socket
    publisher = RecordingPublisher()
    settings = Settings(table_name=TABLE_NAME, live_management_url="https://ws.example")
    runtime = Container(settings, clients=clients, ports=Ports(live_publisher=publisher))
    on_socket = live_socket.handler.bound(runtime)
    context = LambdaContext("live-socket")
    on_socket(_socket_event("$connect", "s1"), context)
    frame = json.dumps({"action": "auth", "ticket": runtime.live_service().ticket(CLINICIAN)})
    on_socket(_socket_event("auth", "s1", frame), context)
    # When the stream announces an outbound message (a scheduled send, a colleague's reply)
    record = {
        "eventName": "INSERT",
        "dynamodb": {
            "SequenceNumber": "101",
            "NewImage": {
                "sk": {"S": "MSG#01K"},
                "direction": {"S": "outbound"},
                "tenant_id": {"S": "harbor"},
                "conversation_id": {"S": "conv-2"},
            },
        },
    }
    live_notifier.handler.bound(runtime)({"Records": [record]}, LambdaContext("live-notifier"))
    # Then the open thread is told to fetch it
    assert [(s, json.loads(f)) for s, f in publisher.frames] == [
        ("s1", {"type": "changed", "conversation_id": "conv-2"})
    ]


def test_a_socket_with_a_made_up_ticket_is_closed(table: Any, clients: Any) -> None:
    publisher = RecordingPublisher()
    settings = Settings(table_name=TABLE_NAME, live_management_url="https://ws.example")
    runtime = Container(settings, clients=clients, ports=Ports(live_publisher=publisher))
    frame = json.dumps({"action": "auth", "ticket": "guessed"})
    answer = live_socket.handler.bound(runtime)(
        _socket_event("auth", "s9", frame), LambdaContext("live-socket")
    )
    assert answer == {"statusCode": 401}
    assert publisher.closed == ["s9"]
