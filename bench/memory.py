"""Section 8: local mode's memory and exit under sustained load.

`python -m local.runtime` (what `make run` starts) runs as a subprocess on a free port;
SENDERS threads post signed inbound Twilio webhooks, each from its own fictional 555-01xx
numbers, for SECONDS without pause. The runtime's resident set (VmRSS from /proc) is read
every SAMPLE_EVERY seconds, with how many messages had been accepted by then. At the end,
while the senders still run, the runtime gets SIGINT (Ctrl-C) and the time until it has
exited is measured. Only 127.0.0.1, bounded in time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.load import AREA_CODES, Sender
from bench.world import fake_number
from local.process import RuntimeProcess

SENDERS = 10
SECONDS = float(os.environ.get("BENCH_MEMORY_SECONDS", "600"))
SAMPLE_EVERY = 10.0
EARLY_MARK = 60.0  # "after 1 minute", the figure growth is measured from
EXIT_WAIT = 30.0
# Issue #13's targets: RSS after 10 minutes at most 1.5x that after 1, and Ctrl-C within 5 s.
TARGET_GROWTH = 1.5
TARGET_EXIT_SECONDS = 5.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _sample_at(samples: list[dict[str, float]], seconds: float) -> dict[str, float]:
    return min(samples, key=lambda s: abs(s["seconds"] - seconds))


class _Senders:
    """SENDERS threads posting signed inbound texts until stopped; counts what they got."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self.accepted = [0] * SENDERS
        self.errors = [0] * SENDERS
        self.stop = threading.Event()
        self.counting = threading.Event()  # cleared at SIGINT: refusals then are expected
        self.counting.set()
        self._threads = [threading.Thread(target=self._send, args=(t,)) for t in range(SENDERS)]

    def _send(self, thread: int) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            number = fake_number(count % 100, AREA_CODES[thread % len(AREA_CODES)])
            status, _ = self._sender.post(self._sender.form(number, f"Load {thread}-{count}"))
            if status == 200:
                self.accepted[thread] += 1
            elif self.counting.is_set():
                self.errors[thread] += 1
            if not self.counting.is_set():
                time.sleep(0.05)  # still knocking while it exits, without spinning

    def __enter__(self) -> _Senders:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join()


def _interrupt(process: subprocess.Popen[bytes]) -> tuple[float, int | None]:
    """Ctrl-C; how long until the process has exited (and its code; None: still running)."""
    interrupted = time.monotonic()
    process.send_signal(signal.SIGINT)
    try:
        code: int | None = process.wait(timeout=EXIT_WAIT)
    except subprocess.TimeoutExpired:
        code = None
    return round(time.monotonic() - interrupted, 2), code


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="quietline-bench-memory-") as workdir:
        runtime = RuntimeProcess(Path(workdir))
        state = runtime.start()
        assert runtime.process is not None
        pid = runtime.process.pid
        started_rss = _rss_mb(pid)
        samples = []
        try:
            with _Senders(Sender(state)) as senders:
                started = time.monotonic()
                while (elapsed := time.monotonic() - started) < SECONDS:
                    time.sleep(min(SAMPLE_EVERY, SECONDS - elapsed))
                    samples.append(
                        {
                            "seconds": round(time.monotonic() - started, 1),
                            "rss_mb": round(_rss_mb(pid), 1),
                            "accepted": sum(senders.accepted),
                        }
                    )
                senders.counting.clear()  # Ctrl-C while the senders are still sending
                exit_seconds, exit_code = _interrupt(runtime.process)
        finally:
            runtime.stop()
        log_text = runtime.log()
    return {
        **_figures(samples, started_rss),
        "errors": sum(senders.errors),
        "exit_seconds_after_sigint": exit_seconds,
        "exit_code": exit_code,
        "tracebacks_in_log": log_text.count("Traceback (most recent call last)"),
    }


def _figures(samples: list[dict[str, float]], started_rss: float) -> dict[str, Any]:
    early = _sample_at(samples, EARLY_MARK)
    late = samples[-1]
    stored_between = late["accepted"] - early["accepted"]
    minute = 60.0
    last_minute_from = _sample_at(samples, late["seconds"] - minute)
    return {
        "target_growth": TARGET_GROWTH,
        "target_exit_seconds": TARGET_EXIT_SECONDS,
        "senders": SENDERS,
        "seconds": SECONDS,
        "sample_every_s": SAMPLE_EVERY,
        "samples": samples,
        "rss_at_start_mb": round(started_rss, 1),
        "early": early,
        "late": late,
        "growth": round(late["rss_mb"] / early["rss_mb"], 2),
        "kb_per_message_after_early": (
            round((late["rss_mb"] - early["rss_mb"]) * 1024 / stored_between, 1)
            if stored_between
            else None
        ),
        "messages_per_second_first_minute": round(
            _sample_at(samples, minute)["accepted"] / minute, 1
        ),
        "messages_per_second_last_minute": round(
            (late["accepted"] - last_minute_from["accepted"])
            / max(late["seconds"] - last_minute_from["seconds"], 1.0),
            1,
        ),
    }
