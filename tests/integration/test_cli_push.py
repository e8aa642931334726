"""`quietline push init` as the admin runs it after deploying: the installed command, in a
subprocess, against a moto server holding the stack's outputs and its placeholder secret."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from functions.container import Container
from functions.core.settings import Settings
from functions.dal.aws import AwsClients, AwsTarget
from functions.dal.web_push import VAPID_PUBLIC_KEY_TAG, vapid_public_key
from infra.config import REPO_ROOT

pytestmark = pytest.mark.integration

QUIETLINE = Path(sys.executable).parent / "quietline"  # installed by `make` into the venv
REGION = "us-east-1"
# moto's backends are this process's: each test deploys its own stack, reset nothing shared.


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    server.stop()


def _client(endpoint: str, service: str) -> Any:
    return AwsClients(AwsTarget(endpoint, REGION, "testing", "testing")).client(service)


def _deploy(endpoint: str, *, web_push: bool = True) -> tuple[str, str | None]:
    """The stack as `cdk deploy` leaves it: the secret with a random placeholder, its ARN
    an output (none in VPC mode)."""
    stack_name = f"Quietline{uuid.uuid4().hex[:8]}"
    outputs: dict[str, Any] = {"MessageTableName": {"Value": "messages"}}
    arn = None
    if web_push:
        arn = _client(endpoint, "secretsmanager").create_secret(
            Name=f"{stack_name}-WebPushVapidKey", SecretString="Xq3hP0aVplaceholder8sJd2kW9"
        )["ARN"]
        outputs["WebPushKeySecretArn"] = {"Value": arn}
    template = {"Resources": {"Placeholder": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs}
    _client(endpoint, "cloudformation").create_stack(
        StackName=stack_name, TemplateBody=json.dumps(template)
    )
    return stack_name, arn


def quietline(endpoint: str, stack: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{QUIETLINE.parent}:/usr/bin:/bin",
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        # The code under test (in a worktree, not the tree the venv was installed from).
        "PYTHONPATH": str(REPO_ROOT),
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    return subprocess.run(  # noqa: S603 - our own installed command
        [str(QUIETLINE), "--stack", stack, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _public_key_as_the_api_reads_it(endpoint: str, arn: str) -> str | None:
    """What GET /push/key answers: the staff API's container, reading the secret's tag."""
    clients = AwsClients(AwsTarget(endpoint, REGION, "testing", "testing"))
    return Container(Settings(web_push_vapid_secret=arn), clients=clients).vapid_public_key()


def _stored_key(endpoint: str, arn: str) -> str:
    return str(_client(endpoint, "secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def test_push_init_stores_a_p256_key_and_publishes_its_public_half(
    moto_server: str, tmp_path: Path
) -> None:
    # Given a fresh deployment: the secret holds the stack's placeholder, /push/key is 404
    stack, arn = _deploy(moto_server)
    assert arn is not None
    assert _public_key_as_the_api_reads_it(moto_server, arn) is None
    # When the admin runs `quietline push init`
    result = quietline(moto_server, stack, tmp_path, "push", "init")
    # Then the secret holds a P-256 private key, and the API answers its public half
    assert result.returncode == 0, result.stderr
    public_key = vapid_public_key(_stored_key(moto_server, arn))
    assert _public_key_as_the_api_reads_it(moto_server, arn) == public_key
    assert public_key in result.stdout
    # And the private key is never printed
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_push_init_twice_keeps_the_key_devices_subscribed_with(
    moto_server: str, tmp_path: Path
) -> None:
    stack, arn = _deploy(moto_server)
    assert arn is not None
    assert quietline(moto_server, stack, tmp_path, "push", "init").returncode == 0
    first = _stored_key(moto_server, arn)
    # When it is run again without --rotate
    again = quietline(moto_server, stack, tmp_path, "push", "init")
    # Then it refuses in one line and the key is unchanged
    assert again.returncode == 1
    (line,) = again.stderr.strip().splitlines()
    assert line.startswith("quietline: ") and "--rotate" in line
    assert _stored_key(moto_server, arn) == first


def test_push_init_rotate_replaces_the_key_and_its_published_half(
    moto_server: str, tmp_path: Path
) -> None:
    stack, arn = _deploy(moto_server)
    assert arn is not None
    assert quietline(moto_server, stack, tmp_path, "push", "init").returncode == 0
    first = _public_key_as_the_api_reads_it(moto_server, arn)
    # When the admin rotates
    rotated = quietline(moto_server, stack, tmp_path, "push", "init", "--rotate")
    # Then a new key is stored and published together, and the admin is told the cost
    assert rotated.returncode == 0, rotated.stderr
    second = _public_key_as_the_api_reads_it(moto_server, arn)
    assert second != first
    assert second == vapid_public_key(_stored_key(moto_server, arn))
    assert "opt in" in rotated.stdout or "turn notifications on" in rotated.stdout
    tags = _client(moto_server, "secretsmanager").describe_secret(SecretId=arn)["Tags"]
    assert [t["Key"] for t in tags].count(VAPID_PUBLIC_KEY_TAG) == 1


def test_push_init_on_a_stack_without_web_push_is_a_one_line_error(
    moto_server: str, tmp_path: Path
) -> None:
    # Given a VPC deployment (no VAPID secret)
    stack, _ = _deploy(moto_server, web_push=False)
    result = quietline(moto_server, stack, tmp_path, "push", "init")
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert "no Web Push key secret" in line and "Traceback" not in result.stderr
