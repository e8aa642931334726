"""Section 6: concurrent signed Twilio webhooks against the local runtime on 127.0.0.1.

`python -m local.runtime` (what `make run` starts) runs as a subprocess on a free port
with its state in a temporary directory; SENDERS threads post signed inbound webhooks for
SECONDS per run, RUNS runs (plus shorter runs of one sender, the baseline, and of SENDERS
without duplicates, the control), every run on a freshly started
runtime (moto's TransactWriteItems deep-copies the table, so a growing table slows the
local stack down; fresh runs keep them comparable). Every request has a distinct
MessageSid and comes from one of the fictional 555-01xx numbers; every DUPLICATE_EVERY-th
request of a thread re-sends one of that thread's earlier webhooks unchanged (a carrier
retry). Afterwards the message
items in the runtime's moto table are counted by carrier id: every accepted message must
be stored exactly once, duplicates included. Only 127.0.0.1, bounded in time and count.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3

from bench.stats import median, percentile
from bench.world import fake_number
from functions.carriers.twilio import SIGNATURE_HEADER, compute_signature
from local.process import RuntimeProcess

REPO = Path(__file__).resolve().parent.parent
SENDERS = 8
SECONDS = 10.0
RUNS = 3
DUPLICATE_EVERY = 8
MAX_REQUESTS_PER_RUN = 5000  # a hard bound, whatever the machine's speed
REQUEST_TIMEOUT = 15.0
AREA_CODES = ("206", "253", "360", "425", "509", "312", "415", "617")
_PHONE_SHAPE = re.compile(r"\+\d{8,15}\b")


@dataclass
class Sent:
    sid: str
    status: int
    seconds: float
    duplicate: bool


@dataclass
class RunResult:
    sent: list[Sent] = field(default_factory=list)
    elapsed: float = 0.0


class Sender:
    def __init__(self, state: dict[str, Any]) -> None:
        self.url = state["twilio_sms_webhook_url"]
        self.token = state["twilio_auth_token"]
        self.business_number = state["business_number"]

    def form(self, from_number: str, body: str) -> dict[str, str]:
        sid = f"SM{uuid.uuid4().hex}"
        return {
            "AccountSid": "AC" + "0" * 32,
            "From": from_number,
            "To": self.business_number,
            "Body": body,
            "MessageSid": sid,
            "SmsSid": sid,
            "NumMedia": "0",
        }

    def post(self, form: dict[str, str]) -> tuple[int, float]:
        data = urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            SIGNATURE_HEADER: compute_signature(self.token, self.url, form),
        }
        request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")  # noqa: S310 - http://127.0.0.1 only
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as error:
            status = int(error.code)
        except OSError:
            status = -1
        return status, time.perf_counter() - started


def run_once(
    sender: Sender,
    run_index: int,
    senders: int = SENDERS,
    duplicate_every: int = DUPLICATE_EVERY,
    seconds: float = SECONDS,
) -> RunResult:
    result = RunResult()
    lock = threading.Lock()
    budget = iter(range(MAX_REQUESTS_PER_RUN))
    deadline = time.perf_counter() + seconds

    def worker(thread: int) -> None:
        own: list[dict[str, str]] = []
        count = 0
        while time.perf_counter() < deadline:
            with lock:
                if next(budget, None) is None:
                    return
            count += 1
            duplicate = bool(own) and duplicate_every > 0 and count % duplicate_every == 0
            if duplicate:
                form = own[len(own) // 2]
            else:
                number = fake_number((run_index * 7 + count) % 100, AREA_CODES[thread])
                form = sender.form(number, f"Load test message {run_index}-{thread}-{count}")
                own.append(form)
            status, seconds = sender.post(form)
            with lock:
                result.sent.append(Sent(form["MessageSid"], status, seconds, duplicate))

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    return result


def _client(state: dict[str, Any], service: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=state["aws_endpoint_url"],
        region_name=state["region"],
        aws_access_key_id="local",
        aws_secret_access_key="local",  # noqa: S106 - moto's
    )


def stored_by_sid(state: dict[str, Any]) -> Counter[str]:
    """Inbound message items in the runtime's table, counted by carrier id (moto scan)."""
    found: Counter[str] = Counter()
    for page in (
        _client(state, "dynamodb")
        .get_paginator("scan")
        .paginate(
            TableName=state["table_name"],
            FilterExpression="direction = :d",
            ExpressionAttributeValues={":d": {"S": "inbound"}},
            ProjectionExpression="carrier_message_id",
        )
    ):
        for item in page["Items"]:
            found[item.get("carrier_message_id", {}).get("S", "")] += 1
    return found


def queue_depths(state: dict[str, Any]) -> dict[str, int]:
    """Messages still on the retry queue (visible or in flight) and on its DLQ."""
    sqs = _client(state, "sqs")
    depths = {}
    for name in ("retry_queue_url", "retry_dlq_url"):
        attributes = sqs.get_queue_attributes(
            QueueUrl=state[name],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        depths[name.removesuffix("_url")] = sum(int(v) for v in attributes.values())
    return depths


def webhook_outcomes(log_text: str) -> dict[str, int]:
    """What the webhook handler answered, from its own (PHI-free) log lines."""
    outcomes: Counter[str] = Counter()
    for line in log_text.splitlines():
        if '"webhook processed"' not in line:
            continue
        try:
            outcomes[str(json.loads(line).get("outcome"))] += 1
        except ValueError:
            continue
    return dict(sorted(outcomes.items()))


def summarize_run(run: RunResult) -> dict[str, Any]:
    firsts = [s for s in run.sent if not s.duplicate]
    accepted = [s for s in firsts if s.status == 200]
    latencies = [s.seconds for s in run.sent]
    return {
        "requests": len(run.sent),
        "duplicates_sent": sum(1 for s in run.sent if s.duplicate),
        "accepted": len(accepted),
        "errors": sum(1 for s in run.sent if s.status != 200),
        "seconds": round(run.elapsed, 2),
        "messages_per_second": round(len(accepted) / run.elapsed, 1) if run.elapsed else 0.0,
        "latency_ms_p50": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "latency_ms_p99": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
    }


def check_stored(runs: list[RunResult], stored: Counter[str]) -> dict[str, Any]:
    sent = [s for run in runs for s in run.sent]
    accepted = {s.sid for s in sent if s.status == 200}
    attempted = {s.sid for s in sent}
    missing = [sid for sid in accepted if stored.get(sid, 0) == 0]
    doubled = [sid for sid in attempted if stored.get(sid, 0) > 1]
    duplicates_accepted = sum(1 for s in sent if s.duplicate and s.status == 200)
    return {
        "accepted_messages": len(accepted),
        "duplicate_requests_answered_200": duplicates_accepted,
        "stored_items_for_our_sids": sum(stored.get(sid, 0) for sid in attempted),
        "missing": len(missing),
        "stored_more_than_once": len(doubled),
        "stored_but_not_accepted": len([sid for sid in attempted - accepted if stored.get(sid)]),
        "exactly_once": not missing and not doubled,
    }


@dataclass(frozen=True)
class Configuration:
    name: str
    senders: int
    duplicate_every: int  # 0: no duplicates
    runs: int
    seconds: float


# The measurement proper, plus a shorter baseline (one sender) and a shorter control
# (no duplicates, so no failing transactions) to read it against.
CONFIGURATIONS = (
    Configuration(f"{SENDERS} senders", SENDERS, DUPLICATE_EVERY, RUNS, SECONDS),
    Configuration("baseline: one sender", 1, DUPLICATE_EVERY, 2, SECONDS / 2),
    Configuration(f"{SENDERS} senders, no duplicates (control)", SENDERS, 0, 2, SECONDS / 2),
)


def one_run(config: Configuration, run_index: int) -> dict[str, Any]:
    """A fresh runtime (so every run starts from the same empty table), one timed run."""
    with tempfile.TemporaryDirectory(prefix="quietline-bench-load-") as workdir:
        runtime = RuntimeProcess(Path(workdir))
        try:
            started = time.perf_counter()
            state = runtime.start()
            startup = time.perf_counter() - started
            sender = Sender(state)
            for index in range(config.senders):  # warm-up: imports, clients, first numbers
                sender.post(sender.form(fake_number(0, AREA_CODES[index]), "Warm-up message"))
            result = run_once(
                sender, run_index, config.senders, config.duplicate_every, config.seconds
            )
            # Deferred messages are stored by the retry worker: wait until the count settles.
            stored = _settled(state, result)
            check = check_stored([result], stored)
            check["queues_at_end"] = queue_depths(state)
        finally:
            runtime.stop()
        log_text = runtime.log()
    summary = summarize_run(result)
    summary["runtime_startup_s"] = round(startup, 1)
    return {
        "summary": summary,
        "check": check,
        "outcomes": webhook_outcomes(log_text),
        "log_lines": len(log_text.splitlines()),
        "phone_shaped": len(_PHONE_SHAPE.findall(log_text)),
        "moto_errors": log_text.count("werkzeug Error on request"),
        "moto_copy_races": log_text.count("dictionary changed size during iteration"),
    }


_MEDIANS = (
    "messages_per_second",
    "latency_ms_p50",
    "latency_ms_p99",
    "errors",
    "requests",
    "duplicates_sent",
)
_SUMS = (
    "accepted_messages",
    "duplicate_requests_answered_200",
    "missing",
    "stored_more_than_once",
    "stored_but_not_accepted",
)


def run() -> dict[str, Any]:
    configurations: list[dict[str, Any]] = []
    for config in CONFIGURATIONS:
        runs = [one_run(config, index) for index in range(config.runs)]
        summaries = [r["summary"] for r in runs]
        checks = [r["check"] for r in runs]
        outcomes: Counter[str] = Counter()
        for r in runs:
            outcomes.update(r["outcomes"])
        configurations.append(
            {
                "name": config.name,
                "senders": config.senders,
                "duplicate_every": config.duplicate_every,
                "seconds_per_run": config.seconds,
                "per_run": summaries,
                "median": {
                    key: median(s[key] for s in summaries if s[key] is not None) for key in _MEDIANS
                },
                "stored_check": {
                    **{key: sum(c[key] for c in checks) for key in _SUMS},
                    "exactly_once": all(c["exactly_once"] for c in checks),
                    "runs_not_exactly_once": sum(1 for c in checks if not c["exactly_once"]),
                    "retry_queue_at_end": sum(c["queues_at_end"]["retry_queue"] for c in checks),
                    "retry_dlq_at_end": sum(c["queues_at_end"]["retry_dlq"] for c in checks),
                },
                "webhook_outcomes": dict(sorted(outcomes.items())),
                "runtime_log": {
                    "lines": sum(r["log_lines"] for r in runs),
                    "phone_shaped_strings": sum(r["phone_shaped"] for r in runs),
                    "moto_server_errors": sum(r["moto_errors"] for r in runs),
                    "moto_copy_races": sum(r["moto_copy_races"] for r in runs),
                },
            }
        )
    concurrent, single = configurations[0], configurations[1]
    return {
        "seconds_per_run": SECONDS,
        "runs": RUNS,
        "duplicate_every": DUPLICATE_EVERY,
        "max_requests_per_run": MAX_REQUESTS_PER_RUN,
        "configurations": configurations,
        "throughput_ratio_to_one_sender": round(
            concurrent["median"]["messages_per_second"]
            / max(single["median"]["messages_per_second"], 1e-9),
            2,
        ),
    }


def _settled(state: dict[str, Any], result: RunResult, timeout: float = 30.0) -> Counter[str]:
    """Stored items once nothing is still on its way: every accepted message found and the
    retry queue empty, or the count unchanged between two scans with the queue empty."""
    accepted = {s.sid for s in result.sent if s.status == 200}
    previous: Counter[str] | None = None
    deadline = time.monotonic() + timeout
    while True:
        current = stored_by_sid(state)
        idle = queue_depths(state)["retry_queue"] == 0
        complete = all(current.get(sid) for sid in accepted)
        if (idle and (complete or current == previous)) or time.monotonic() > deadline:
            return current
        previous = current
        time.sleep(1.0)
