"""Each refusal of the public secure-link routes is counted under its reason's metric."""

from __future__ import annotations

import pytest

from local.identity import LocalPool
from tests.integration.conftest import Messaging, StaffApi, build_staff_api
from tests.integration.test_secure_links import _client, _code, _secure_send

pytestmark = pytest.mark.integration


@pytest.fixture
def staff(messaging: Messaging, staff_pool: LocalPool) -> StaffApi:
    return build_staff_api(
        messaging, staff_pool, secure_link_base_url="https://inbox.harbor.example"
    )


def _refusals(staff: StaffApi) -> dict[str, int]:
    counts = staff.messaging.metrics.counts
    return {name: n for name, n in counts.items() if name.startswith("SecureLinkRefused")}


def test_an_unknown_link_counts_as_unavailable(staff: StaffApi) -> None:
    # Given a token nobody was sent; when a client (or a scanner) tries it
    assert _client(staff, "POST", "x" * 32, "challenge")[0] == 410
    # Then one refusal, for that reason
    assert _refusals(staff) == {"SecureLinkRefusedUnavailable": 1}


def test_wrong_codes_count_until_the_lock_and_then_as_locked(staff: StaffApi) -> None:
    # Given a secure link and its code
    _, token = _secure_send(staff)
    _client(staff, "POST", token, "challenge")
    wrong = "000000" if _code(staff) != "000000" else "111111"

    # When five wrong codes are tried, then one more
    statuses = [_client(staff, "POST", token, "verify", {"code": wrong})[0] for _ in range(6)]

    # Then four 401s and two 423s, each counted under its own reason
    assert statuses == [401, 401, 401, 401, 423, 423]
    assert _refusals(staff) == {"SecureLinkRefusedWrongCode": 4, "SecureLinkRefusedLocked": 2}
