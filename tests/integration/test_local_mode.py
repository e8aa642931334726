"""`make run`'s runtime, started as a process: moto, the schema, the tenants, the HTTP adapter."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from functions.carriers.twilio import compute_signature
from functions.dal.audit_log import DynamoDbAuditLog
from functions.dal.schema import tenant_key_alias
from functions.logic.audit_chain import verify_tenant
from infra.config import load_config
from local.identity import totp
from local.process import RuntimeDidNotStart, RuntimeProcess
from tests.builders import twilio_inbound_form
from tests.conftest import phi_found
from tests.phi_samples import CLIENT_PHONE, OTHER_CLIENT_PHONE

THIRD_CLIENT_PHONE = "+12065550177"  # fictional (555-01xx)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local-runtime")]


@pytest.fixture(scope="module")
def local_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    runtime = RuntimeProcess(tmp_path_factory.mktemp("quietline-state"))
    try:
        state = runtime.start(timeout=60)
    except RuntimeDidNotStart as error:
        pytest.fail(str(error))
    yield state
    runtime.stop()
    assert not runtime.state_file.exists(), "the runtime removes its state file when it stops"
    output = runtime.log()
    # Everything the runtime logged while the tests drove it: no PHI.
    assert "InboundStored" in output, "the scan must see the runtime's own log lines"
    assert phi_found(output) == [], "the local runtime logged PHI"


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_local_json_names_what_clients_and_tests_need(local_state: dict[str, Any]) -> None:
    config = load_config()
    for key in ("base_url", "aws_endpoint_url", "region", "tenant_id", "business_number"):
        assert local_state[key]
    assert local_state["base_url"].startswith("http://127.0.0.1:")
    assert local_state["tenant_id"] == config.tenants[0].id
    assert local_state["business_number"] == config.tenants[0].business_numbers[0]


def test_the_handlers_answer_over_http(local_state: dict[str, Any]) -> None:
    assert _get(local_state["base_url"] + "/health") == (200, {"status": "ok"})
    status, body = _get(local_state["base_url"] + "/no/such/route")
    assert status == 404 and "error" in body


def test_moto_holds_the_same_table_and_keys_the_cdk_app_defines(
    local_state: dict[str, Any],
) -> None:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    endpoint = local_state["aws_endpoint_url"]
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    table = dynamodb.describe_table(TableName=local_state["table_name"])["Table"]
    # The keys and indexes tests/infra/test_message_store.py requires of the deployed table.
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == [
        "by_activity",
        "by_pending",
    ]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == [
        {"AttributeName": name, "AttributeType": "S"}
        for name in ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "pk", "sk")
    ]
    kms = session.client("kms", endpoint_url=endpoint)
    for tenant in local_state["tenants"]:
        key = kms.describe_key(KeyId=tenant_key_alias(tenant["id"]))["KeyMetadata"]
        assert key["KeyState"] == "Enabled"
        assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    tenant_item = dynamodb.get_item(
        TableName=local_state["table_name"],
        Key={"pk": {"S": f"TENANT#{local_state['tenant_id']}"}, "sk": {"S": "PROFILE"}},
    )["Item"]
    assert tenant_item["status"]["S"] == "active"
    assert "index_key_record" in tenant_item


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _outbox(local_state: dict[str, Any], to: str) -> list[dict[str, Any]]:
    status, texts = _get(f"{local_state['outbox_url']}?{urlencode({'to': to})}")
    assert status == 200
    return list(texts)


def _wait_for(predicate: Any, seconds: float = 15) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail("condition not met in time")


def test_a_signed_twilio_webhook_is_accepted_and_a_forged_one_refused(
    local_state: dict[str, Any],
) -> None:
    form = twilio_inbound_form(
        from_number=CLIENT_PHONE, to_number=local_state["business_number"], body="HELP"
    )
    url = local_state["twilio_sms_webhook_url"]
    data = urlencode(form).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = {**headers, "X-Twilio-Signature": compute_signature("guess", url, form)}
    assert _post(url, data, forged)[0] == 403
    signed = {
        **headers,
        "X-Twilio-Signature": compute_signature(local_state["twilio_auth_token"], url, form),
    }
    status, body = _post(url, data, signed)
    assert status == 200 and b"<Response>" in body
    # The HELP reply goes through the queue, the sender and the simulated carrier.
    (reply,) = _wait_for(lambda: _outbox(local_state, CLIENT_PHONE))
    assert "Msg & data rates may apply" in reply["body"]


def test_the_sns_shaped_route_plays_end_user_messaging_inbound(local_state: dict[str, Any]) -> None:
    message = {
        "originationNumber": OTHER_CLIENT_PHONE,
        "destinationNumber": local_state["business_number"],
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": "STOP",
        "inboundMessageId": "local-test-1",
        "previousPublishedMessageId": "",
    }
    status, body = _post(local_state["aws_sms_inbound_url"], json.dumps(message).encode(), {})
    assert status == 202 and json.loads(body) == {"outcomes": ["stored"]}
    status, body = _post(local_state["aws_sms_inbound_url"], json.dumps(message).encode(), {})
    assert json.loads(body) == {"outcomes": ["duplicate"]}
    (confirmation,) = _wait_for(lambda: _outbox(local_state, OTHER_CLIENT_PHONE))
    assert "unsubscribed" in confirmation["body"].lower()
    assert _post(local_state["aws_sms_inbound_url"], b"{not json", {})[0] == 400


def _admin_id_token(local_state: dict[str, Any]) -> str:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    cognito = session.client("cognito-idp", endpoint_url=local_state["aws_endpoint_url"])
    admin = next(u for u in local_state["users"] if u["role"] == "admin")
    challenge = cognito.initiate_auth(
        ClientId=local_state["user_pool_client_id"],
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": admin["email"], "PASSWORD": admin["password"]},
    )
    assert challenge["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    tokens = cognito.respond_to_auth_challenge(
        ClientId=local_state["user_pool_client_id"],
        ChallengeName="SOFTWARE_TOKEN_MFA",
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": admin["email"],
            "SOFTWARE_TOKEN_MFA_CODE": totp(admin["totp_secret"]),
        },
    )["AuthenticationResult"]
    return str(tokens["IdToken"])


def test_staff_sign_in_with_mfa_then_use_the_api_with_a_real_token(
    local_state: dict[str, Any],
) -> None:
    id_token = _admin_id_token(local_state)
    api = local_state["api_base_url"]
    anonymous = urllib.request.Request(api + "/me")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(anonymous, timeout=10)
    assert refused.value.code == 401
    request = urllib.request.Request(api + "/me", headers={"Authorization": id_token})
    with urllib.request.urlopen(request, timeout=10) as response:
        me = json.loads(response.read())
    assert me["role"] == "admin" and me["tenant_id"] == local_state["tenant_id"]


def test_a_burst_of_concurrent_api_calls_all_succeed(local_state: dict[str, Any]) -> None:
    """The inbox fires several calls at once; each must answer as one Lambda instance would."""
    id_token = _admin_id_token(local_state)
    api = local_state["api_base_url"]

    def call(path: str) -> int:
        request = urllib.request.Request(api + path, headers={"Authorization": id_token})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    paths = ["/me", "/conversations", "/templates"] * 8
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(call, paths))
    assert statuses == [200] * len(paths)


def _audit_events(local_state: dict[str, Any], action: str) -> list[dict[str, Any]]:
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    table = session.resource("dynamodb", endpoint_url=local_state["aws_endpoint_url"]).Table(
        local_state["audit_table_name"]
    )
    items = table.scan()["Items"]
    return [item for item in items if item.get("action") == action]


def test_concurrent_requests_to_two_handlers_are_each_audited_as_their_own(
    local_state: dict[str, Any],
) -> None:
    """The staff API and the secure page share one process here (two Lambdas in AWS):
    every audit record describes its own request, never the other handler's."""
    id_token = _admin_id_token(local_state)
    api = local_state["api_base_url"]
    me = urllib.request.Request(api + "/me", headers={"Authorization": id_token})
    with urllib.request.urlopen(me, timeout=10) as response:
        admin_id = json.loads(response.read())["user_id"]
    seen = {e["request_id"] for e in _audit_events(local_state, "conversation.list")}

    def staff_list(_: int) -> int:
        request = urllib.request.Request(
            api + "/conversations", headers={"Authorization": id_token}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)

    def client_probe(index: int) -> int:
        token = f"{index:02d}" + "x" * 30
        return _post(f"{api}/secure/{token}/challenge", b"{}", {})[0]

    with ThreadPoolExecutor(max_workers=12) as pool:
        listed = [pool.submit(staff_list, i) for i in range(10)]
        probed = [pool.submit(client_probe, i) for i in range(10)]
        assert [f.result() for f in listed] == [200] * 10
        assert [f.result() for f in probed] == [410] * 10

    events = [
        e for e in _audit_events(local_state, "conversation.list") if e["request_id"] not in seen
    ]
    assert len(events) == 10
    for event in events:
        assert event["target"] == {}  # a list has no target: never a secure link's token
        assert event["actor"] == admin_id and event["outcome"] == "success"
        assert event["source_ip"] == "127.0.0.1" and event["request_id"]
    assert len({event["request_id"] for event in events}) == 10


def test_the_runtime_seals_audited_requests_from_the_audit_tables_stream(
    local_state: dict[str, Any],
) -> None:
    # Given audited API calls (listing conversations is audited)
    id_token = _admin_id_token(local_state)
    for _ in range(3):
        request = urllib.request.Request(
            local_state["api_base_url"] + "/conversations", headers={"Authorization": id_token}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    table = session.resource("dynamodb", endpoint_url=local_state["aws_endpoint_url"]).Table(
        local_state["audit_table_name"]
    )
    log = DynamoDbAuditLog(table, retention_days=2190)

    # When the runtime's stream consumer has had time to run
    deadline = time.monotonic() + 30
    report = verify_tenant(log, local_state["tenant_id"], datetime.now(UTC))
    while (report.unsealed or report.sealed < 3) and time.monotonic() < deadline:
        time.sleep(0.5)
        report = verify_tenant(log, local_state["tenant_id"], datetime.now(UTC))

    # Then every audited request is sealed into an intact chain
    assert report.ok, report
    assert report.sealed >= 3 and report.unsealed == 0


def test_a_new_inbound_text_notifies_staff_through_the_topic_without_phi(
    local_state: dict[str, Any],
) -> None:
    # Given a queue subscribed to local mode's staff topic (as a staff e-mail would be)
    session = boto3.session.Session(
        aws_access_key_id="local", aws_secret_access_key="local", region_name=local_state["region"]
    )
    endpoint = local_state["aws_endpoint_url"]
    sns = session.client("sns", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    (topic,) = [
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(":quietline-staff-notifications")
    ]
    queue_url = sqs.create_queue(QueueName="staff-inbox-test")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    # When a client texts the business number
    body = "Can we move Thursday's session?"
    message = {
        "originationNumber": THIRD_CLIENT_PHONE,
        "destinationNumber": local_state["business_number"],
        "messageKeyword": "KEYWORD_123456789012",
        "messageBody": body,
        "inboundMessageId": "local-notify-1",
        "previousPublishedMessageId": "",
    }
    status, _ = _post(local_state["aws_sms_inbound_url"], json.dumps(message).encode(), {})
    assert status == 202

    # Then the staff notifier, fed by the message table's stream, tells staff: no PHI
    def received() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages", [])

    (delivered,) = _wait_for(received, seconds=30)
    notification = json.loads(delivered["Body"])
    assert notification["Subject"] == "New message in Quietline"
    assert THIRD_CLIENT_PHONE not in delivered["Body"] and body not in delivered["Body"]
