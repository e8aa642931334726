"""Sections 1 and 4: AWS round trips per operation, KMS requests and DynamoDB capacity.

Each operation runs through its real handler on the in-process moto deployment
(bench/world.py). Every run is recorded twice over: at the modeled network latency
(LATENCY_S added to every AWS call) and at none, alternating, RUNS times each; a third,
untimed pass captures request and response bodies for the capacity estimate.
"""

from __future__ import annotations

import functools
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.aws_calls import AwsCall, count_by_operation, count_by_service
from bench.stats import critical_path_steps, describe_sequence, median, sequential_depth
from bench.world import TENANT, World, fake_number
from functions.core.models import MessageRef
from functions.core.observability import logger

LATENCY_S = 0.010
RUNS = 7
CAPACITY_RUNS = 3
THREAD_MESSAGES = 60  # the thread read asks for the newest 50
CONTACTS = 55  # the conversation list asks for 50
PAGE = 50
INBOUND_BATCH_NUMBERS = 20  # the KMS-per-1,000-inbound batch: 20 numbers ...
INBOUND_BATCH_EACH = 10  # ... texting 10 times each (so 10 % are first contacts)

# Generic texts: no PHI-shaped content reaches any log, even a bench log.
BODY = "Could we move our appointment to next week? Thanks."


class ByteCounter(io.TextIOBase):
    """Where the function logger writes during the runs: only the byte count is kept."""

    def __init__(self) -> None:
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode())
        return len(text)


@dataclass
class Sample:
    calls: list[AwsCall]
    wall: float
    log_bytes: int = 0


@dataclass
class Operation:
    key: str
    title: str
    target: int | None = None
    samples_latency: list[Sample] | None = None
    samples_zero: list[Sample] | None = None
    capacity: list[tuple[float, float, int, int]] | None = None  # rru, wru, kms, log bytes

    def summary(self) -> dict[str, Any]:
        timed = self.samples_latency or []
        zero = self.samples_zero or []
        reference = timed[-1].calls
        wall = median(s.wall for s in timed)
        wall0 = median(s.wall for s in zero)
        depths = [sequential_depth([(c.start, c.end) for c in s.calls]) for s in timed]
        depth = int(median(depths))
        steps = critical_path_steps([(c.start, c.end) for c in reference])
        attributable = (wall - wall0) / LATENCY_S
        result: dict[str, Any] = {
            "key": self.key,
            "operation": self.title,
            "aws_calls": int(median(len(s.calls) for s in timed)),
            "calls_by_service": count_by_service(reference),
            "calls_by_operation": count_by_operation(reference),
            "sequence": describe_sequence([c.name for c in reference]),
            "sequential_depth": depth,
            "sequential_depth_range": [min(depths), max(depths)],
            # The reference run's calls by critical-path step (calls of one step overlapped).
            "steps": [
                describe_sequence(
                    [c.name for c, at in zip(reference, steps, strict=True) if at == step], ", "
                )
                for step in range(1, max(steps, default=0) + 1)
            ],
            "wall_ms_with_latency": round(wall * 1000, 1),
            "wall_ms_without_latency": round(wall0 * 1000, 1),
            "effective_sequential_round_trips": round(wall / LATENCY_S, 1),
            "latency_attributable_round_trips": round(attributable, 1),
            "target_sequential_round_trips": self.target,
            "target_met": None if self.target is None else depth <= self.target,
            "modeled_calls": sorted({c.name for c in reference if c.modeled}),
        }
        if self.capacity:
            result["read_units"] = median(c[0] for c in self.capacity)
            result["write_units"] = median(c[1] for c in self.capacity)
            result["kms_requests"] = int(median(c[2] for c in self.capacity))
            result["log_bytes"] = int(median(c[3] for c in self.capacity))
        return result


class RoundTrips:
    def __init__(self, world: World) -> None:
        self.world = world
        self.log = ByteCounter()
        handler = logger.registered_handler
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(self.log)
        self.thread_id = ""
        self.contact_id = ""

    # --- measuring one call of an operation --------------------------------------------
    def measure(self, action: Callable[[], Any], *, latency: float, capture: bool) -> Sample:
        recorder = self.world.recorder
        logged = self.log.bytes
        recorder.start(latency=latency, capture_bodies=capture)
        started = time.perf_counter()
        try:
            action()
        finally:
            wall = time.perf_counter() - started
            calls = recorder.stop()
        return Sample(calls, wall, self.log.bytes - logged)

    def capacity_of(self, sample: Sample) -> tuple[float, float, int, int]:
        rru = wru = 0.0
        for call in sample.calls:
            read, write = self.world.probe.units(call)
            rru += read
            wru += write
        kms = sum(1 for c in sample.calls if c.service == "kms")
        return rru, wru, kms, sample.log_bytes

    def repeat(self, operation: Operation, prepare: Callable[[], Callable[[], Any]]) -> None:
        """RUNS samples at the modeled latency, RUNS without (alternating), then capacity."""
        operation.samples_latency, operation.samples_zero, operation.capacity = [], [], []
        for index in range(2 * RUNS):
            latency = LATENCY_S if index % 2 == 0 else 0.0
            sample = self.measure(prepare(), latency=latency, capture=False)
            (operation.samples_latency if latency else operation.samples_zero).append(sample)
        for _ in range(CAPACITY_RUNS):
            sample = self.measure(prepare(), latency=0.0, capture=True)
            operation.capacity.append(self.capacity_of(sample))

    # --- state ---------------------------------------------------------------------------
    def seed(self) -> None:
        world = self.world
        for index in range(THREAD_MESSAGES):
            world.sns_inbound(fake_number(20), f"{BODY} ({index})")
        directory = world.instance().directory()
        tenant = directory.active_tenant(TENANT.tenant_id)
        self.thread_id = directory.conversation_id_for(tenant, fake_number(20))
        for index in range(CONTACTS):
            created = world.api(
                "POST",
                "/contacts",
                body={
                    "phone_number": fake_number(index, "415"),
                    "display_name": f"Client {index}",
                    "consent": {"mode": "plain_sms", "wording_version": "v1"},
                },
            )
            if created.status != 201:
                raise RuntimeError(f"contact not created: {created.status}")
            self.contact_id = self.contact_id or str(created.body["contact_id"])

    # --- the operations -----------------------------------------------------------------
    def run(self) -> list[Operation]:
        world = self.world
        self.seed()
        operations: list[Operation] = []

        thread = Operation("thread_read_50", f"thread read ({PAGE} messages, staff API)", 5)
        self.repeat(
            thread,
            lambda: (
                lambda: _ok(
                    world.api(
                        "GET",
                        "/conversations/{conversation_id}/messages",
                        params={"conversation_id": self.thread_id},
                        query={"limit": str(PAGE)},
                    )
                )
            ),
        )
        listing = Operation("conversation_list_50", f"conversation list ({PAGE}, staff API)")
        self.repeat(
            listing,
            lambda: lambda: _ok(world.api("GET", "/conversations", query={"limit": str(PAGE)})),
        )
        operations += [listing, thread]

        sns = Operation("inbound_sns", "inbound store (End User Messaging → SNS → Lambda)", 3)
        self.repeat(sns, lambda: lambda: world.sns_inbound(fake_number(20), BODY))
        twilio = Operation("inbound_twilio", "inbound store (Twilio webhook, signed)", 3)
        self.repeat(twilio, lambda: lambda: world.twilio_inbound(fake_number(20), BODY))
        numbers = iter(range(21, 99))
        first = Operation("inbound_first_contact", "inbound store, first text from a number", 3)

        def first_contact() -> Callable[[], Any]:
            number = fake_number(next(numbers))
            return lambda: world.sns_inbound(number, BODY)

        self.repeat(first, first_contact)

        def cold() -> Callable[[], Any]:
            world.cold_instance()
            return lambda: world.sns_inbound(fake_number(20), BODY)

        cold_op = Operation("inbound_cold_instance", "inbound store on a new Lambda instance", 3)
        self.repeat(cold_op, cold)
        operations += [sns, twilio, first, cold_op]
        sweep = Operation("sweep", "scheduled sweep, nothing pending (every 5 minutes)")
        self.repeat(sweep, lambda: world.sweep)
        operations.append(sweep)
        operations += self._outbound_chain()
        return operations

    def _outbound_chain(self) -> list[Operation]:
        """accept (staff API) → send (sender Lambda) → delivered (EventBridge), per run."""
        world = self.world
        accept = Operation("outbound_accept", "outbound accept (staff API send)")
        send = Operation("send", "send (sender Lambda, one SQS record)")
        status = Operation("status_update", "status update (delivery event via EventBridge)")
        for op in (accept, send, status):
            op.samples_latency, op.samples_zero, op.capacity = [], [], []
        for index in range(2 * RUNS + CAPACITY_RUNS):
            capture = index >= 2 * RUNS
            latency = LATENCY_S if index % 2 == 0 and not capture else 0.0
            accepted: dict[str, Any] = {}

            def do_accept(into: dict[str, Any] = accepted) -> None:
                into["result"] = _ok(
                    world.api(
                        "POST",
                        "/conversations/{conversation_id}/messages",
                        params={"conversation_id": self.contact_id},
                        body={"body": BODY},
                    )
                )

            samples = [self.measure(do_accept, latency=latency, capture=capture)]
            event = world.outbound_event()
            samples.append(
                self.measure(functools.partial(world.send, event), latency=latency, capture=capture)
            )
            world.finish_batch(event)
            ref = MessageRef(TENANT.tenant_id, self.contact_id, accepted["result"]["message_id"])
            carrier_id = world.carrier.outbox()[-1].carrier_message_id
            samples.append(
                self.measure(
                    functools.partial(world.delivered, ref, carrier_id),
                    latency=latency,
                    capture=capture,
                )
            )
            for op, sample in zip((accept, send, status), samples, strict=True):
                if capture:
                    assert op.capacity is not None
                    op.capacity.append(self.capacity_of(sample))
                elif latency:
                    assert op.samples_latency is not None
                    op.samples_latency.append(sample)
                else:
                    assert op.samples_zero is not None
                    op.samples_zero.append(sample)
        return [accept, send, status]

    def one_round_trip(self) -> dict[str, float]:
        """The reference: one GetItem through the functions' own client, same latency."""

        def get() -> Any:
            return self.world.instance().store().get_tenant(TENANT.tenant_id)

        timed = [self.measure(get, latency=LATENCY_S, capture=False).wall for _ in range(RUNS)]
        zero = [self.measure(get, latency=0.0, capture=False).wall for _ in range(RUNS)]
        return {
            "wall_ms_with_latency": round(median(timed) * 1000, 2),
            "wall_ms_without_latency": round(median(zero) * 1000, 2),
        }

    def kms_per_thousand_inbound(self) -> dict[str, Any]:
        """A new Lambda instance takes a batch: INBOUND_BATCH_NUMBERS numbers texting
        INBOUND_BATCH_EACH times each, in turn; KMS requests counted, scaled to 1,000."""
        world = self.world
        world.cold_instance()
        total = INBOUND_BATCH_NUMBERS * INBOUND_BATCH_EACH

        def batch() -> None:
            for _ in range(INBOUND_BATCH_EACH):
                for index in range(INBOUND_BATCH_NUMBERS):
                    world.sns_inbound(fake_number(index, "312"), BODY)

        sample = self.measure(batch, latency=0.0, capture=False)
        kms = [c for c in sample.calls if c.service == "kms"]
        return {
            "messages": total,
            "first_contacts": INBOUND_BATCH_NUMBERS,
            "kms_requests": len(kms),
            "kms_by_operation": count_by_operation(kms),
            "kms_per_1000_inbound": round(len(kms) * 1000 / total, 1),
            "aws_calls_per_message": round(len(sample.calls) / total, 2),
        }


def _ok(result: Any) -> Any:
    status = getattr(result, "status", 200)
    if status >= 400:
        raise RuntimeError(f"request failed with {status}")
    return getattr(result, "body", result)


def run() -> dict[str, Any]:
    with World() as world:
        bench = RoundTrips(world)
        operations = bench.run()
        reference = bench.one_round_trip()
        kms_batch = bench.kms_per_thousand_inbound()
        stored = world.stored_inbound_count()
        sizes = world.stored_bytes_per_message()
        metric_names = sorted(world.metrics.counts)
    return {
        "latency_ms": LATENCY_S * 1000,
        "runs": RUNS,
        "capacity_runs": CAPACITY_RUNS,
        "one_round_trip": reference,
        "operations": [op.summary() for op in operations],
        "kms_inbound_batch": kms_batch,
        "inbound_items_stored": stored,
        "stored_sizes": sizes,
        "metric_names": metric_names,
    }
