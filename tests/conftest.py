"""Suite-wide fixtures and the PHI log scan.

Every test's captured stdout, stderr and log records are scanned after it runs; a test
whose output holds a sample PHI value (tests/phi_samples.py) or anything shaped like a
phone number fails, whatever its own assertions said.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from local import moto_cognito, moto_dynamodb
from tests.phi_samples import PHI_VALUES

_PHONE_SHAPE = re.compile(r"\+\d{8,15}\b")

# Fake credentials: nothing in the suite may reach a real AWS account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "POWERTOOLS_DEV": "false",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def phi_found(text: str) -> list[str]:
    hits = [value for value in PHI_VALUES if value in text]
    hits += _PHONE_SHAPE.findall(text)
    return hits


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or report.failed or item.get_closest_marker("phi_allowed"):
        return
    captured = "\n".join((report.capstdout, report.capstderr, report.caplog))
    hits = phi_found(captured)
    if hits:
        report.outcome = "failed"
        report.longrepr = (
            f"PHI leaked into captured output ({len(hits)} hit(s)); first one is shaped like "
            f"{'a phone number' if hits[0].startswith('+') else 'a message body'}."
        )


def pytest_configure(config: pytest.Config) -> None:
    # moto's DynamoDB is not atomic under threads (local/moto_dynamodb.py); DynamoDB is.
    moto_dynamodb.install()
    # moto's Cognito lets a disabled user refresh (local/moto_cognito.py); Cognito does not.
    moto_cognito.install()
    config.addinivalue_line(
        "markers", "phi_allowed: this test prints PHI on purpose (e.g. it tests the scan)"
    )


pytest_plugins = ["pytester"]
