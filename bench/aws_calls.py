"""Counting (and delaying) AWS API calls with botocore event hooks.

`CallRecorder.attach(client)` registers on the client's `meta.events`:

- `before-call`: note the call and its start, then sleep the modeled network latency,
  so on top of moto (which answers in-process in well under a millisecond of network)
  every sequential round trip costs what a real one would. The hook runs on the calling
  thread, so calls made in parallel (EnvelopeCipher.decrypt_many) sleep in parallel.
- `after-call` / `after-call-error`: note the end, and keep the raw request and response
  bodies when asked (for the DynamoDB capacity estimate).

Only calls made while `active` are recorded or delayed: setup work runs at full speed.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

_CALL_ID = "bench_call_id"


@dataclass
class AwsCall:
    service: str
    operation: str
    start: float
    end: float = 0.0
    thread: int = 0
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    status: int = 0
    modeled: bool = False  # not an AWS call we could hook: a stand-in (the carrier's API)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.service}.{self.operation}"


class CallRecorder:
    def __init__(self) -> None:
        self.latency = 0.0
        self.active = False
        self.capture_bodies = False
        self.calls: list[AwsCall] = []
        self._open: dict[int, AwsCall] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        # Called (on the calling thread) around writes when capturing: capacity probes.
        self.before_write: Any = None
        self.after_write: Any = None

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call", self._before)
        client.meta.events.register("after-call", self._after)
        client.meta.events.register("after-call-error", self._after_error)
        return client

    def start(self, *, latency: float = 0.0, capture_bodies: bool = False) -> None:
        with self._lock:
            self.calls = []
            self._open = {}
        self.latency = latency
        self.capture_bodies = capture_bodies
        self.active = True

    def stop(self) -> list[AwsCall]:
        self.active = False
        with self._lock:
            return list(self.calls)

    def modeled_call(self, service: str, operation: str) -> None:
        """A round trip we cannot hook (moto has no End User Messaging v2): delay and note it."""
        if not self.active:
            return
        call = AwsCall(service, operation, time.perf_counter(), modeled=True)
        call.thread = threading.get_ident()
        if self.latency:
            time.sleep(self.latency)
        call.end = time.perf_counter()
        with self._lock:
            self.calls.append(call)

    # --- botocore hooks ---------------------------------------------------------------
    def _before(
        self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        if not self.active:
            return
        call = AwsCall(
            model.service_model.service_name,
            model.name,
            time.perf_counter(),
            thread=threading.get_ident(),
        )
        if self.capture_bodies:
            call.request = _json_body(params.get("body"))
        with self._lock:
            call_id = next(self._ids)
            self._open[call_id] = call
            self.calls.append(call)
        context[_CALL_ID] = call_id
        if self.capture_bodies and self.before_write is not None:
            self.before_write(call)
        if self.latency:
            time.sleep(self.latency)

    def _after(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        call = self._close(context)
        if call is None:
            return
        call.status = int(getattr(http_response, "status_code", 0) or 0)
        # Bodies are for the DynamoDB capacity estimate only; reading another service's
        # response here would consume a streamed body (S3 GetObject) before its caller.
        if self.capture_bodies and call.service == "dynamodb":
            call.response = _json_body(getattr(http_response, "content", None))
            if self.after_write is not None:
                self.after_write(call)

    def _after_error(self, context: dict[str, Any], **_: Any) -> None:
        call = self._close(context)
        if call is not None:
            call.status = -1

    def _close(self, context: dict[str, Any]) -> AwsCall | None:
        call_id = context.get(_CALL_ID)
        if call_id is None:
            return None
        with self._lock:
            call = self._open.pop(call_id, None)
        if call is not None:
            call.end = time.perf_counter()
        return call


def _json_body(raw: Any) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        parsed = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return parsed if isinstance(parsed, dict) else None


def count_by_service(calls: list[AwsCall]) -> dict[str, int]:
    return dict(sorted(Counter(c.service for c in calls).items()))


def count_by_operation(calls: list[AwsCall]) -> dict[str, int]:
    return dict(sorted(Counter(c.name for c in calls).items()))
