"""The suite's PHI scan must itself be able to fail a test."""

from __future__ import annotations

import pytest

from tests.conftest import phi_found
from tests.phi_samples import BODY, CLIENT_PHONE

pytestmark = pytest.mark.unit


def test_phi_found_spots_sample_values_and_phone_shapes() -> None:
    assert phi_found(f"oops {BODY}")
    assert phi_found("call +4915123456789 now")
    assert not phi_found("status=delivered id=01JMSG0000000000000000000A at 2026-11-28T10:00:00Z")


@pytest.mark.phi_allowed  # the inner run prints PHI on purpose
def test_a_test_that_prints_phi_fails_even_when_its_assertions_pass(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "from tests.conftest import pytest_runtest_makereport, pytest_configure\n"
    )
    pytester.makepyfile(
        f"""
        import logging

        def test_prints():
            print("sending to {CLIENT_PHONE}")

        def test_logs():
            logging.getLogger("x").warning("body was %s", {BODY!r})

        def test_clean():
            print("all good")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-o", "log_level=INFO")
    result.assert_outcomes(passed=1, failed=2)
    assert CLIENT_PHONE not in result.stdout.str().split("short test summary")[-1]
