"""The usage-per-staff-hour section (#17 item 4, #15): KMS, DynamoDB and audit per active
hour, polling against live updates; live-arrival latency; the sockets' monthly bill."""

from __future__ import annotations

from typing import Any

from bench.doc.base import Doc, Figures, Lines, Section, met, method, num, qty, raw, table, usd

KMS_PER_HOUR_LIMIT = 500
SOCKETS_MONTHLY_LIMIT_USD = 1.0
ARRIVAL_P99_LIMIT_MS = 2000.0
_OPS = (
    ("full_list", "list, first page"),
    ("full_thread", "thread, newest page"),
    ("list_since", "list `since` the last look"),
    ("thread_after", "thread `after` the newest shown"),
    ("mark_read", "mark read"),
)


def targets(data: Figures, _doc: Doc) -> list[dict[str, Any]]:
    live, bill = data["hours"]["live"], data["sockets"]
    rows = [
        {
            "target": f"≤ {KMS_PER_HOUR_LIMIT} KMS requests per active staff-hour (thread open, "
            f"a text every {60 // data['arrivals_per_hour']} min)",
            "measured": f"{qty(live['kms_requests'])} (polling: "
            f"{qty(data['hours']['polling']['kms_requests'])})",
            "met": met(live["kms_requests"], KMS_PER_HOUR_LIMIT),
        },
        {
            "target": f"≤ {usd(SOCKETS_MONTHLY_LIMIT_USD)}/month for {data['staff']} staff "
            f"connected {data['hours_per_day']} h a day",
            "measured": usd(bill["usd"]),
            "met": met(bill["usd"], SOCKETS_MONTHLY_LIMIT_USD),
        },
    ]
    latency = data.get("latency") or {}
    if "p99_ms" in latency:
        rows.append(
            {
                "target": f"a new text in an open inbox within {num(ARRIVAL_P99_LIMIT_MS)} ms "
                "(local mode, p99)",
                "measured": f"p50 {num(latency['p50_ms'])} ms, p99 {num(latency['p99_ms'])} ms",
                "met": met(latency["p99_ms"], ARRIVAL_P99_LIMIT_MS),
            }
        )
    return rows


def _hour_rows(data: Figures) -> list[tuple[Any, ...]]:
    rows = []
    for design in ("polling", "live"):
        hour = data["hours"][design]
        rows.append(
            (
                design,
                qty(hour["kms_requests"]),
                qty(hour["read_units"]),
                qty(hour["write_units"]),
                qty(hour["audit_events"]),
                usd(hour["usd"]),
            )
        )
    return rows


def body(data: Figures, _doc: Doc) -> Lines:
    ops, hours = data["operations"], data["hours"]
    polling, live = hours["polling"], hours["live"]
    bill, prices = data["sockets"], data["prices"]
    op_rows = [
        (
            label,
            num(ops[key]["kms_requests"]),
            num(ops[key]["kms_conversations"]),
            num(ops[key]["read_units"]),
            num(ops[key]["write_units"]),
            num(ops[key]["audit_events"]),
        )
        for key, label in _OPS
    ]
    ratio = polling["kms_requests"] / live["kms_requests"] if live["kms_requests"] else 0
    lines = [
        method(
            "The staff API handler on moto, wired as a Lambda instance (`bench/world.py`), with "
            f"{data['list_size']} named conversations and an open thread of "
            f"{data['thread_size']} messages; each operation's AWS calls recorded (medians). "
            "Latency: texts posted to a running local mode's inbound route until its socket is "
            "told (its stream poller reads every 0.25 s, as Lambda polls a shard). "
            "DynamoDB units are estimated from the items read and written "
            "(`bench/capacity.py`); audit events are the audit table's PutItems. The hour is "
            "composed from the operations: *polling* re-reads the list every "
            f"{data['poll_seconds']} s and re-reads the thread's newest page on each new text; "
            "*live* reads list and thread once, then per pushed change asks only for what "
            f"changed (`since`, `after`). {data['arrivals_per_hour']} texts arrive in the hour, "
            "all in the open thread. `bench/usage_hour.py`."
        ),
        table(
            (
                "operation",
                "KMS requests",
                "conversations whose keys were used",
                "read units",
                "write units",
                "audit events",
            ),
            op_rows,
        ),
        "",
        table(
            ("one active staff-hour", "KMS requests", "read units", "write units", "audit", "cost"),
            _hour_rows(data),
        ),
        "",
        f"Live updates cut KMS requests per staff-hour from {qty(polling['kms_requests'])} to "
        f"{qty(live['kms_requests'])} ({num(ratio)} times fewer) and audit events from "
        f"{qty(polling['audit_events'])} to {qty(live['audit_events'])}. An active hour's KMS "
        f"costs {usd(polling['kms_usd'])} polling and {usd(live['kms_usd'])} live "
        f"({usd(prices['kms_requests_10k']['usd'])} per {qty(10_000)} requests).",
        "",
        f"**Key per field vs key per conversation.** Today every field has its own data key: a "
        f"list page costs {num(ops['full_list']['kms_requests'])} Decrypts, a thread page "
        f"{num(ops['full_thread']['kms_requests'])}. With a data key per conversation the "
        "Decrypts are one per conversation touched (the middle column): "
        f"{num(ops['full_thread']['kms_conversations'])} for the thread page, and still "
        f"{num(ops['full_list']['kms_conversations'])} for the list, whose names are each in "
        f"another conversation; over the live hour {qty(live['kms_conversations'])} instead of "
        f"{qty(live['kms_requests'])}. See docs/key-scheme.md for the choice.",
        "",
    ]
    lines += _sockets(data, bill, prices)
    return lines


def _sockets(data: Figures, bill: Figures, prices: Figures) -> Lines:
    kinds = bill["messages_by_kind"]
    minute_price = prices["api_gateway_websocket_connection_minutes_million"]
    message_price = prices["api_gateway_websocket_messages_million"]
    lines = [
        f"**Sockets' monthly bill.** {data['staff']} staff connected {data['hours_per_day']} h a "
        f"day for {data['days']} days: {qty(bill['connection_minutes'])} connection-minutes at "
        f"{usd(minute_price['usd'])} per million ({usd(bill['connection_usd'])}) and "
        f"{qty(bill['messages'])} messages at {usd(message_price['usd'])} per million "
        f"({usd(bill['messages_usd'])}: {qty(kinds['pings'])} keep-alive pings, "
        f"{qty(kinds['ticket_frames'])} ticket frames and answers, {qty(kinds['pushes'])} "
        f"pushes for {qty(data['texts_per_month'])} texts): {usd(bill['usd'])} a month. Prices "
        f"from {minute_price['from']}.",
        "",
    ]
    latency = data.get("latency") or {}
    if "p50_ms" in latency:
        lines += [
            f"**Live arrival in local mode:** {latency['samples']} texts posted to the inbound "
            "route of a running `make run` until a signed-in socket was told: p50 "
            f"{num(latency['p50_ms'])} ms, p99 {num(latency['p99_ms'])} ms, max "
            f"{num(latency['max_ms'])} ms.",
            "",
        ]
    return lines


SECTION = Section(
    "usage_hour", "Usage per staff-hour and live updates", raw("usage_hour"), body, targets
)
