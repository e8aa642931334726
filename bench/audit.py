"""Section 7: the audit log under concurrency, on moto in-process.

Each run starts an empty audit table (functions/dal/schema.py, stream included) and the
sealer as local mode runs it: the real handler (functions/handlers/audit_sealer.py) fed by
local/streams.py's poller on a background thread. APPENDS threads then append one audited
event each for the same tenant, released together by a barrier. Measured per run: appends
that raised (any refusal), each append's latency, and each event's sealing lag (the link's
sealed_at minus the moment its append returned), then `verify` over the tenant's chain.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from bench.stats import median, percentile

RUNS = 5
APPENDS = 50
TABLE_NAME = "quietline-bench-audit"
TENANT = "harbor"
RETENTION_DAYS = 2190
SEAL_TIMEOUT_S = 120.0


def run() -> dict[str, Any]:
    from local.streams import POLL_INTERVAL_SECONDS  # noqa: PLC0415 - after environment.ensure

    per_run = [_one_run() for _ in range(RUNS)]
    return {
        "appends_per_run": APPENDS,
        "runs": RUNS,
        "poll_interval_s": POLL_INTERVAL_SECONDS,
        "per_run": per_run,
        "failures_total": sum(r["failures"] for r in per_run),
        "median": {
            key: round(median(r[key] for r in per_run), 1)
            for key in (
                "append_ms_p50",
                "append_ms_p99",
                "seal_lag_ms_p50",
                "seal_lag_ms_p99",
                "seal_ms_per_link",
            )
        },
    }


def _event(i: int) -> Any:
    from functions.core.clock import iso  # noqa: PLC0415
    from functions.logic.audit import AuditEvent, Outcome  # noqa: PLC0415

    return AuditEvent(
        "message.read",
        Outcome.SUCCESS,
        f"bench-user-{i % 5}",
        TENANT,
        iso(datetime.now(UTC)),
        f"bench-request-{i}",
        "198.51.100.7",
        {"conversation_id": f"bench-conversation-{i % 7}"},
    )


def _one_run() -> dict[str, Any]:
    from moto import mock_aws  # noqa: PLC0415

    from functions.container import Container  # noqa: PLC0415
    from functions.core.settings import Settings  # noqa: PLC0415
    from functions.dal.aws import AwsClients  # noqa: PLC0415
    from functions.dal.schema import (  # noqa: PLC0415
        AUDIT_SEALER_FILTER,
        create_audit_table_kwargs,
    )
    from functions.handlers import audit_sealer  # noqa: PLC0415
    from functions.logic.audit_chain import parse_time, verify_tenant  # noqa: PLC0415
    from local import moto_dynamodb  # noqa: PLC0415
    from local.streams import StreamPoller  # noqa: PLC0415

    moto_dynamodb.install()  # as local mode: moto's DynamoDB atomic under threads
    with mock_aws():
        clients = AwsClients()
        clients.client("dynamodb").create_table(**create_audit_table_kwargs(TABLE_NAME))
        settings = Settings(audit_table_name=TABLE_NAME, audit_retention_days=RETENTION_DAYS)
        runtime = Container(settings, clients=clients)
        log = runtime.audit_log()
        stop = threading.Event()
        poller = StreamPoller(
            clients,
            TABLE_NAME,
            audit_sealer.handler.bound(runtime),
            filter_pattern=AUDIT_SEALER_FILTER,
        )
        sealer = threading.Thread(target=poller.run, args=(stop,), daemon=True)
        sealer.start()
        barrier = threading.Barrier(APPENDS)

        def append(i: int) -> tuple[str, float, float]:
            event = _event(i)
            barrier.wait()
            started = time.perf_counter()
            key = log.append(event)
            return key, time.perf_counter() - started, time.time()

        with ThreadPoolExecutor(max_workers=APPENDS) as pool:
            futures = [pool.submit(append, i) for i in range(APPENDS)]
        done = [f.result() for f in futures if f.exception() is None]
        appended_at = {key: wall for key, _, wall in done}
        deadline = time.monotonic() + SEAL_TIMEOUT_S
        while sum(1 for _ in log.markers(TENANT)) < len(done) and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        sealer.join(timeout=10)
        head = log.head(TENANT)
        links = [link for link, _ in log.seals(TENANT, head.seq if head else 0)]
        sealed_at = [parse_time(link.sealed_at).timestamp() for link in links]
        lags = [
            (when - appended_at[link.event_key]) * 1000
            for link, when in zip(links, sealed_at, strict=True)
            if link.event_key in appended_at
        ]
        report = verify_tenant(log, TENANT, datetime.now(UTC))
    latencies = [seconds * 1000 for _, seconds, _ in done]
    return {
        "failures": APPENDS - len(done),
        "stored": len(done),
        "sealed": len(lags),
        "verify_ok": report.ok,
        "verify_sealed": report.sealed,
        "verify_unsealed": report.unsealed,
        "append_ms_p50": round(percentile(latencies, 50), 2),
        "append_ms_p99": round(percentile(latencies, 99), 2),
        "seal_lag_ms_p50": round(percentile(lags, 50), 1) if lags else None,
        "seal_lag_ms_p99": round(percentile(lags, 99), 1) if lags else None,
        # First link to last: the sealer's own pace, one TransactWriteItems after another.
        "seal_ms_per_link": (
            round((sealed_at[-1] - sealed_at[0]) * 1000 / (len(links) - 1), 1)
            if len(links) > 1
            else None
        ),
    }
