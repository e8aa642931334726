"""Process settings for the benchmark runs: fake AWS credentials, no tracing daemon.

Applied before any function module is imported (Powertools reads some at import time).
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

BENCH_ENV = {
    # Nothing may reach a real AWS account: moto only, with fake credentials.
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_SECURITY_TOKEN": "bench",
    "AWS_SESSION_TOKEN": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # As deployed (infra/constructs/function.py); the functions run no tracing SDK.
    "POWERTOOLS_SERVICE_NAME": "quietline",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_DEV": "false",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}


_DROPPED = ("AWS_PROFILE", "AWS_ENDPOINT_URL")


def bench_environ(inherited: Mapping[str, str]) -> dict[str, str]:
    """The environment the bench runs in: the caller's, with BENCH_ENV and nothing that
    could point a client at a real account or another endpoint."""
    kept = {k: v for k, v in inherited.items() if k not in _DROPPED}
    return {**kept, **BENCH_ENV}


def ensure(argv: Sequence[str]) -> None:
    """Run in the bench's environment: if this process was not started in it, replace the
    process by one that is (the environment is set once, by exec, never rewritten)."""
    wanted = bench_environ(os.environ)
    if dict(os.environ) != wanted:
        os.execve(sys.executable, [sys.executable, "-m", "bench", *argv], wanted)  # noqa: S606


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
    }
