"""One staff user pool per test session, copied into each test's moto state.

`local.identity.create_pool` (the pool as deployed plus four TOTP-enrolled demo staff)
costs about half a second in moto, most of it moto importing the pool's RSA signing key,
and every staff API and token test used to pay it. The pool is built once per session
in a moto context of its own; each test then gets a deep copy of it in its own moto
state (well under a millisecond), so a test that invites, disables or signs out staff
changes only its copy and no test sees another's users.

The copy goes through moto's backend registry (`cognitoidp_backends`), the documented
way to reach moto's state directly; the RSA key object is shared, as it never changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cognitoidp.models import cognitoidp_backends

from infra.config import QuietlineConfig, load_config
from local.identity import LocalPool, create_pool
from tests.phi_samples import OTHER_BUSINESS_NUMBER


def two_tenant_config() -> QuietlineConfig:
    """The shipped config plus a second tenant, "cedar", for cross-tenant tests."""
    config = load_config()
    cedar = config.tenants[0].model_copy(
        update={"id": "cedar", "business_numbers": [OTHER_BUSINESS_NUMBER]}
    )
    return config.model_copy(update={"tenants": [*config.tenants, cedar]})


@dataclass(frozen=True)
class PoolSnapshot:
    pool: LocalPool
    state: Any  # moto's CognitoIdpUserPool, as create_pool left it


@pytest.fixture(scope="session", name="staff_pool_snapshot")
def fixture_staff_pool_snapshot() -> PoolSnapshot:
    # Session-scoped, so pytest sets it up before any test's own moto context starts.
    with mock_aws():
        pool = create_pool(boto3.client("cognito-idp"), two_tenant_config())
        account_id = boto3.client("sts").get_caller_identity()["Account"]
        region = pool.user_pool_id.split("_", 1)[0]  # a pool id is <region>_<id>
        state = cognitoidp_backends[account_id][region].user_pools[pool.user_pool_id]
    return PoolSnapshot(pool, state)


@pytest.fixture(name="staff_pool")
def fixture_staff_pool(moto_aws: Any, staff_pool_snapshot: PoolSnapshot) -> LocalPool:
    """The session's pool (harbor and cedar, an admin and a clinician each, TOTP
    enrolled), as this test's own copy in this test's moto state."""
    state = staff_pool_snapshot.state
    key = state.json_web_key
    backend = cognitoidp_backends[state.account_id][state.region]
    backend.user_pools[state.id] = copy.deepcopy(state, memo={id(key): key})
    return staff_pool_snapshot.pool
