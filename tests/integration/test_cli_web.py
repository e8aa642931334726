"""`quietline web publish` against moto's S3: the inbox's files, their headers, its config."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from cli import main as cli_main
from infra.config import REPO_ROOT, load_config
from tests.integration.test_cli import _deploy_outputs

pytestmark = pytest.mark.integration

BUCKET = "quietline-web"
OUTPUTS = {
    "WebBucketName": BUCKET,
    "WebUrl": "https://d111111abcdef8.cloudfront.net",
    "UserPoolClientId": "client-id-1",
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
}


@pytest.fixture
def s3(moto_aws: None) -> Any:
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def _publish() -> Any:
    return CliRunner().invoke(cli_main.main, ["--stack", "Quietline", "web", "publish"])


def _objects(s3: Any) -> dict[str, dict[str, Any]]:
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    return {key: s3.get_object(Bucket=BUCKET, Key=key) for key in keys}


def test_publish_uploads_the_pages_and_assets_with_their_types_and_cache_rules(s3: Any) -> None:
    _deploy_outputs(OUTPUTS)
    result = _publish()
    assert result.exit_code == 0, result.output

    objects = _objects(s3)
    shipped = {p.name for p in (REPO_ROOT / "web" / "app").iterdir()} - {"phone.js"}
    # config.json is generated: web/app has none (local mode computes it per request).
    assert set(objects) == {
        "index.html",
        "secure.html",
        "app/config.json",
        *(f"app/{name}" for name in shipped),
    }
    for key, obj in objects.items():
        expected_cache = "no-store" if key.endswith((".html", ".json")) else "no-cache"
        assert obj["CacheControl"] == expected_cache, key
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["app/main.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["app/style.css"]["ContentType"] == "text/css; charset=utf-8"
    assert objects["index.html"]["Body"].read() == (REPO_ROOT / "web" / "index.html").read_bytes()
    assert f"published {len(objects)} file(s), removed 0" in result.output
    assert OUTPUTS["WebUrl"] in result.output


def test_the_published_config_points_the_inbox_at_this_deployment(s3: Any) -> None:
    _deploy_outputs(OUTPUTS)
    assert _publish().exit_code == 0

    config = json.loads(s3.get_object(Bucket=BUCKET, Key="app/config.json")["Body"].read())
    assert config == {
        "cognito_endpoint": "https://cognito-idp.us-east-1.amazonaws.com",
        "user_pool_client_id": "client-id-1",
        "api_base_url": OUTPUTS["ApiUrl"],
        "idle_timeout_seconds": load_config().idle_timeout_minutes * 60,
        "local_mode": False,
    }


def test_files_no_longer_in_web_are_removed(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="app/old-inbox.js", Body=b"// renamed since")
    s3.put_object(Bucket=BUCKET, Key="phone.html", Body=b"<!-- local only -->")
    _deploy_outputs(OUTPUTS)
    result = _publish()
    assert result.exit_code == 0 and "removed 2" in result.output
    assert not {"app/old-inbox.js", "phone.html"} & set(_objects(s3))


def test_a_stack_without_hosting_is_a_one_line_error(moto_aws: None) -> None:
    _deploy_outputs({"ApiUrl": OUTPUTS["ApiUrl"], "UserPoolClientId": "client-id-1"})
    result = _publish()
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "WebBucketName" in result.output
    # What `make deploy` runs: a stack whose inbox is hosted elsewhere is not an error.
    skipped = CliRunner().invoke(
        cli_main.main, ["--stack", "Quietline", "web", "publish", "--if-hosted"]
    )
    assert skipped.exit_code == 0 and "nothing to publish" in skipped.output
