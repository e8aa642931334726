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
    "SecureApiUrl": "https://def456.execute-api.us-east-1.amazonaws.com/prod",
}


# Exactly what a deployment serves. A new file in web/app fails this list until someone
# decides whether it is published; local mode's own files never are.
PUBLISHED = {
    "index.html",
    "secure.html",
    "sw.js",
    "app/config.json",
    "app/admin.js",
    "app/appointments.js",
    "app/care_admin.js",
    "app/cognito.js",
    "app/dom.js",
    "app/fields.js",
    "app/icon.svg",
    "app/icon-180.png",
    "app/icon-192.png",
    "app/icon-512.png",
    "app/icon-maskable-512.png",
    "app/inbox.js",
    "app/inbox_format.js",
    "app/layout.js",
    "app/live.js",
    "app/lock.js",
    "app/main.js",
    "app/manifest.json",
    "app/new_contact.js",
    "app/passkeys.js",
    "app/push.js",
    "app/pwa.js",
    "app/reminders_admin.js",
    "app/schedule.js",
    "app/secure.js",
    "app/segments.js",
    "app/session.js",
    "app/settings_view.js",
    "app/sw_push.js",
    "app/urgent.js",
    "app/style.css",
    "app/voice.js",
    "app/voice_admin.js",
}
LOCAL_ONLY = {
    "phone.html",
    "cell.html",
    "app/phone.js",
    "app/phone_calls.js",
    "app/cell.js",
    "app/demo.js",
    "app/totp.js",
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
    # config.json is generated: web/app has none (local mode computes it per request).
    assert set(objects) == PUBLISHED
    for key, obj in objects.items():
        expected_cache = "no-store" if key.endswith((".html", ".json")) else "no-cache"
        assert obj["CacheControl"] == expected_cache, key
    assert objects["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert objects["app/main.js"]["ContentType"] == "text/javascript; charset=utf-8"
    assert objects["app/style.css"]["ContentType"] == "text/css; charset=utf-8"
    assert objects["index.html"]["Body"].read() == (REPO_ROOT / "web" / "index.html").read_bytes()
    assert f"published {len(objects)} file(s), removed 0" in result.output
    assert OUTPUTS["WebUrl"] in result.output


def test_no_demo_only_file_is_published_or_referenced_by_what_is(s3: Any) -> None:
    # Given web/ with local mode's demo panel, its TOTP helper and the phone simulator
    assert all((REPO_ROOT / "web" / key).is_file() for key in LOCAL_ONLY)
    _deploy_outputs(OUTPUTS)

    # When it is published
    assert _publish().exit_code == 0
    objects = _objects(s3)

    # Then none of them is in the bucket, and nothing in the bucket names the demo
    # accounts' probe, the TOTP helper or a demo account's secret
    assert not LOCAL_ONLY & set(objects)
    for key, obj in objects.items():
        text = obj["Body"].read().decode("utf-8", errors="replace")  # the PNG icons too
        for marker in ("/local/demo", "totp.js", "totp_secret"):
            assert marker not in text, f"{key} mentions {marker}"


def test_the_published_config_points_the_inbox_at_this_deployment(s3: Any) -> None:
    _deploy_outputs(OUTPUTS)
    assert _publish().exit_code == 0

    config = json.loads(s3.get_object(Bucket=BUCKET, Key="app/config.json")["Body"].read())
    assert config == {
        "cognito_endpoint": "https://cognito-idp.us-east-1.amazonaws.com",
        "user_pool_client_id": "client-id-1",
        "api_base_url": OUTPUTS["ApiUrl"],
        # The secure page's routes are on their own API (not the staff API's stage).
        "secure_api_base_url": OUTPUTS["SecureApiUrl"],
        "idle_timeout_seconds": load_config().idle_timeout_minutes * 60,
        "local_mode": False,
    }


def test_files_no_longer_in_web_are_removed(s3: Any) -> None:
    s3.put_object(Bucket=BUCKET, Key="app/old-inbox.js", Body=b"// renamed since")
    s3.put_object(Bucket=BUCKET, Key="phone.html", Body=b"<!-- local only -->")
    # Published before the demo panel's TOTP helper was made local-only.
    s3.put_object(Bucket=BUCKET, Key="app/totp.js", Body=b"export async function totp() {}")
    _deploy_outputs(OUTPUTS)
    result = _publish()
    assert result.exit_code == 0 and "removed 3" in result.output
    assert not {"app/old-inbox.js", "phone.html", "app/totp.js"} & set(_objects(s3))


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
