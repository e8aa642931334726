"""Process settings for the benchmark runs: fake AWS credentials, no tracing daemon.

Applied before any function module is imported (Powertools reads some at import time).
"""

from __future__ import annotations

import os
import platform
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


def prepare() -> None:
    os.environ.update(BENCH_ENV)
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(terse=True),
    }
