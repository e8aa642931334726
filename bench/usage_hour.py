"""Usage per staff-hour (#17 item 4): KMS requests, DynamoDB units and audit events of one
staff member's active hour, today's polling inbox against live updates with `since`.

Every operation is run for real (the staff API handler on moto, as bench/world.py wires a
Lambda instance) and its AWS calls recorded; the hour is then composed from the measured
operations:

- **polling** (the inbox before live updates): the list of 50 conversations re-read every
  15 s (240 reads an hour), and on each new text the open thread's newest page re-read
  (50 bodies) and marked read;
- **live**: the list and the thread read once when the inbox opens, then per new text one
  `GET /conversations?since=` (only what changed), one `GET .../messages?after=` (only the
  new message) and the read mark, triggered by the socket's push.

Also measured: the live-arrival latency of local mode (a text into the SNS-shaped inbound
route until the open socket hears of it, through the local stream poller) and the monthly
cost of keeping staff connected (WebSocket connection-minutes and messages).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import statistics
import struct
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.aws_calls import AwsCall
from bench.world import AUDIT_TABLE_NAME, World, fake_number

LIST_SIZE = 50  # conversations on the first page (the app asks for 50)
THREAD_SIZE = 50  # messages on a thread's page (the app asks for 50)
POLL_SECONDS = 15  # the inbox before live updates
ARRIVALS_PER_HOUR = 15  # a text every 4 minutes, the open thread's
FALLBACK_POLL_SECONDS = 60  # live: only while the socket is down
LATENCY_SAMPLES = 40
PING_MINUTES = 5  # the app's keep-alive frame (API Gateway closes idle sockets at 10 min)
# Connected staff for the monthly socket bill (#15): 10 staff, 8 h a day, 30 days.
STAFF, HOURS_PER_DAY, DAYS = 10, 8, 30
TEXTS_PER_MONTH = 5000  # the group practice of #17 item 3: pushes are per text per socket
# API Gateway WebSocket list prices (us-east-1), used when bench/prices.json lacks them.
_WEBSOCKET_PRICES = {
    "api_gateway_websocket_messages_million": {
        "usd": 1.00,
        "unit": "million WebSocket messages (32 KB increments), first billion",
        "source": "https://aws.amazon.com/api-gateway/pricing/",
    },
    "api_gateway_websocket_connection_minutes_million": {
        "usd": 0.25,
        "unit": "million WebSocket connection minutes",
        "source": "https://aws.amazon.com/api-gateway/pricing/",
    },
}
PRICES_PATH = Path(__file__).with_name("prices.json")


# --- one measured operation ---------------------------------------------------------------
def _measure(world: World, action: Callable[[], Any]) -> dict[str, Any]:
    world.recorder.start(capture_bodies=True)
    try:
        action()
    finally:
        calls = world.recorder.stop()
    kms = [c for c in calls if c.service == "kms"]
    read_units = write_units = 0.0
    for call in calls:
        r, w = world.probe.units(call)
        read_units += r
        write_units += w
    return {
        "kms_requests": len(kms),
        "kms_conversations": len({_conversation_of(c) for c in kms}),
        "read_units": round(read_units, 2),
        "write_units": round(write_units, 2),
        "audit_events": sum(1 for c in calls if _is_audit_event(c)),
        "dynamodb_requests": sum(1 for c in calls if c.service == "dynamodb"),
    }


def _conversation_of(call: AwsCall) -> str:
    context = (call.request or {}).get("EncryptionContext") or {}
    return str(context.get("conversation_id", "?"))


def _is_audit_event(call: AwsCall) -> bool:
    if call.service != "dynamodb" or call.operation != "PutItem":
        return False
    return (call.request or {}).get("TableName") == AUDIT_TABLE_NAME


def _median(samples: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


# --- the world: 50 named conversations, one with a 50-message thread --------------------------
def _seed(world: World) -> tuple[str, str]:
    open_number = fake_number(0)
    for i in range(LIST_SIZE):
        world.sns_inbound(fake_number(i), f"Synthetic hello {i}")
    for i in range(THREAD_SIZE - 1):
        world.sns_inbound(open_number, f"Synthetic thread line {i}")
    page = world.api("GET", "/conversations", query={"limit": str(LIST_SIZE)}).body
    assert page is not None
    for n, conversation in enumerate(page["items"]):
        world.api(
            "PATCH",
            "/contacts/{contact_id}",
            params={"contact_id": conversation["conversation_id"]},
            body={"display_name": f"Client {n}"},
        )
    thread = world.api("GET", "/conversations", query={"limit": "1"}).body
    assert thread is not None
    return open_number, thread["items"][0]["conversation_id"]


def _operations(world: World, open_number: str, open_id: str) -> dict[str, Any]:
    params = {"conversation_id": open_id}
    full_list = lambda: world.api("GET", "/conversations", query={"limit": str(LIST_SIZE)})  # noqa: E731
    full_thread = lambda: world.api(  # noqa: E731
        "GET",
        "/conversations/{conversation_id}/messages",
        params=params,
        query={"limit": str(THREAD_SIZE)},
    )
    mark_read = lambda: world.api("POST", "/conversations/{conversation_id}/read", params=params)  # noqa: E731
    lists = [_measure(world, full_list) for _ in range(5)]
    threads = [_measure(world, full_thread) for _ in range(5)]
    since_reads, after_reads, marks = [], [], []
    first = world.api("GET", "/conversations", query={"limit": str(LIST_SIZE)}).body or {}
    since = first.get("since")
    newest = (full_thread().body or {})["items"][0]["message_id"]
    for i in range(ARRIVALS_PER_HOUR):
        world.sns_inbound(open_number, f"Synthetic new text {i}")  # not measured: the arrival
        answer: dict[str, Any] = {}

        def changed_list(answer: dict[str, Any] = answer, since: str | None = since) -> None:
            query = {"limit": str(LIST_SIZE), "since": since or ""}
            answer["list"] = world.api("GET", "/conversations", query=query).body

        def new_messages(answer: dict[str, Any] = answer, newest: str = newest) -> None:
            answer["thread"] = world.api(
                "GET",
                "/conversations/{conversation_id}/messages",
                params=params,
                query={"limit": str(THREAD_SIZE), "after": newest},
            ).body

        since_reads.append(_measure(world, changed_list))
        after_reads.append(_measure(world, new_messages))
        marks.append(_measure(world, mark_read))
        since = answer["list"]["since"]
        changed_items = answer["list"]["items"]
        newest = answer["thread"]["items"][0]["message_id"]
        assert [c["conversation_id"] for c in changed_items] == [open_id], (
            "since: only the open one"
        )
        assert len(answer["thread"]["items"]) == 1, "after: only the new message"
    return {
        "full_list": _median(lists),
        "full_thread": _median(threads),
        "list_since": _median(since_reads),
        "thread_after": _median(after_reads),
        "mark_read": _median(marks),
    }


def _hour(ops: dict[str, Any]) -> dict[str, Any]:
    """Compose one active staff-hour of each design from the measured operations."""
    list_reads = 3600 // POLL_SECONDS
    plans = {
        "polling": {
            "full_list": list_reads,
            "full_thread": 1 + ARRIVALS_PER_HOUR,
            "mark_read": ARRIVALS_PER_HOUR,
        },
        "live": {
            "full_list": 1,
            "full_thread": 1,
            "list_since": ARRIVALS_PER_HOUR,
            "thread_after": ARRIVALS_PER_HOUR,
            "mark_read": ARRIVALS_PER_HOUR,
        },
    }
    hours: dict[str, Any] = {}
    for design, plan in plans.items():
        totals: Counter[str] = Counter()
        for op, count in plan.items():
            for key, value in ops[op].items():
                totals[key] += value * count
        hours[design] = {"plan": plan, **{k: round(v, 1) for k, v in totals.items()}}
    return hours


# --- the price of an hour and of the sockets ----------------------------------------------
def _prices() -> dict[str, Any]:
    listed = json.loads(PRICES_PATH.read_text(encoding="utf-8"))["prices"]
    found: dict[str, Any] = {}
    for key in (
        "kms_requests_10k",
        "dynamodb_read_request_million",
        "dynamodb_write_request_million",
    ):
        found[key] = {**listed[key], "from": "bench/prices.json"}
    for key, fallback in _WEBSOCKET_PRICES.items():
        found[key] = (
            {**listed[key], "from": "bench/prices.json"}
            if key in listed
            else {**fallback, "from": "bench/usage_hour.py (not yet in bench/prices.json)"}
        )
    return found


def _priced(hours: dict[str, Any], prices: dict[str, Any]) -> None:
    kms = prices["kms_requests_10k"]["usd"] / 10_000
    rru = prices["dynamodb_read_request_million"]["usd"] / 1e6
    wru = prices["dynamodb_write_request_million"]["usd"] / 1e6
    for hour in hours.values():
        hour["usd"] = round(
            hour["kms_requests"] * kms + hour["read_units"] * rru + hour["write_units"] * wru, 6
        )
        hour["kms_usd"] = round(hour["kms_requests"] * kms, 6)


def socket_bill(prices: dict[str, Any]) -> dict[str, Any]:
    minutes = STAFF * HOURS_PER_DAY * 60 * DAYS
    pings = STAFF * HOURS_PER_DAY * (60 // PING_MINUTES) * DAYS
    # Per socket: connect, the ticket frame and its answer; API Gateway closes a socket
    # after 2 h, so 4 reconnects a day. Pushes: every text to every connected socket.
    setup = STAFF * DAYS * (HOURS_PER_DAY // 2) * 2
    pushes = TEXTS_PER_MONTH * STAFF
    messages = pings + setup + pushes
    per_minute = prices["api_gateway_websocket_connection_minutes_million"]["usd"] / 1e6
    per_message = prices["api_gateway_websocket_messages_million"]["usd"] / 1e6
    return {
        "connection_minutes": minutes,
        "messages": messages,
        "messages_by_kind": {"pings": pings, "ticket_frames": setup, "pushes": pushes},
        "connection_usd": round(minutes * per_minute, 4),
        "messages_usd": round(messages * per_message, 4),
        "usd": round(minutes * per_minute + messages * per_message, 4),
    }


# --- live-arrival latency in local mode -----------------------------------------------------
def _frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def _read_text(conn: socket.socket) -> str:
    head = conn.recv(2)
    size = head[1] & 0x7F
    if size == 126:
        size = struct.unpack("!H", conn.recv(2))[0]
    data = b""
    while len(data) < size:
        data += conn.recv(size - len(data))
    return data.decode()


def arrival_latency() -> dict[str, Any]:
    """Local mode, started as `make run` starts it: a text posted to the SNS-shaped inbound
    route until the signed-in socket is told (the stream poller's 0.25 s interval included)."""
    from local.process import RuntimeProcess  # noqa: PLC0415
    from tests.browser.helpers import http, id_token  # noqa: PLC0415 - the browser tests' sign-in

    with tempfile.TemporaryDirectory() as state:
        runtime = RuntimeProcess(Path(state))
        local = runtime.start(timeout=90)
        try:
            token = id_token(local, "admin")
            status, ticket = http(
                "POST", local["api_base_url"] + "/live/tickets", None, {"Authorization": token}
            )
            assert status == 200, status
            host, port = local["base_url"].removeprefix("http://").split(":")
            conn = socket.create_connection((host, int(port)), timeout=10)
            key = base64.b64encode(os.urandom(16)).decode()
            conn.sendall(
                (
                    f"GET /live HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                    f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                    "Sec-WebSocket-Version: 13\r\n\r\n"
                ).encode()
            )
            response = b""
            while b"\r\n\r\n" not in response:
                response += conn.recv(1)
            assert b" 101 " in response.split(b"\r\n", 1)[0]
            conn.sendall(_frame(json.dumps({"action": "auth", "ticket": ticket["ticket"]})))
            assert json.loads(_read_text(conn)) == {"type": "ready"}
            samples = []
            for i in range(LATENCY_SAMPLES):
                started = time.perf_counter()
                threading.Thread(
                    target=http,
                    args=(
                        "POST",
                        local["aws_sms_inbound_url"],
                        {
                            "originationNumber": fake_number(i % 5, "425"),
                            "destinationNumber": local["business_number"],
                            "messageBody": f"Synthetic latency probe {i}",
                            "inboundMessageId": f"bench-live-{i}-{time.monotonic_ns()}",
                        },
                    ),
                ).start()
                frame = json.loads(_read_text(conn))
                samples.append((time.perf_counter() - started) * 1000)
                assert frame["type"] == "changed"
            conn.close()
        finally:
            runtime.stop()
    ordered = sorted(samples)
    return {
        "samples": len(ordered),
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "max_ms": round(ordered[-1], 1),
    }


def run() -> dict[str, Any]:
    with World() as world:
        open_number, open_id = _seed(world)
        ops = _operations(world, open_number, open_id)
    hours = _hour(ops)
    prices = _prices()
    _priced(hours, prices)
    return {
        "list_size": LIST_SIZE,
        "thread_size": THREAD_SIZE,
        "poll_seconds": POLL_SECONDS,
        "arrivals_per_hour": ARRIVALS_PER_HOUR,
        "operations": ops,
        "hours": hours,
        "prices": prices,
        "sockets": socket_bill(prices),
        "staff": STAFF,
        "hours_per_day": HOURS_PER_DAY,
        "days": DAYS,
        "texts_per_month": TEXTS_PER_MONTH,
        "latency": arrival_latency(),
    }
