"""The session's staff pool: every test gets its own copy (tests/integration/cognito_pool.py)."""

from __future__ import annotations

import boto3
import pytest

from local.identity import LocalPool
from tests.integration.cognito_pool import PoolSnapshot

pytestmark = pytest.mark.integration


def test_a_change_to_one_tests_pool_never_reaches_the_next_tests_copy(
    staff_pool: LocalPool, staff_pool_snapshot: PoolSnapshot
) -> None:
    cognito = boto3.client("cognito-idp")
    clinician = next(user for user in staff_pool.users if user.role == "clinician")

    cognito.admin_disable_user(UserPoolId=staff_pool.user_pool_id, Username=clinician.email)

    found = cognito.admin_get_user(UserPoolId=staff_pool.user_pool_id, Username=clinician.email)
    assert found["Enabled"] is False
    # The next test's copy is taken from the session's state, which still has them enabled.
    (kept,) = [
        u for u in staff_pool_snapshot.state.users.values() if u.username == found["Username"]
    ]
    assert kept.enabled is True
