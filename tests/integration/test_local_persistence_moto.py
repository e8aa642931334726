"""What local mode saves of moto comes back whole (local/persistence.py), and moto's
Cognito refuses refresh tokens as Cognito does (local/moto_cognito.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import persistence

pytestmark = pytest.mark.integration

PASSWORD = "Ql-Example-Passw0rd!"  # a moto pool's user, in this test only


def _pool_with_user(cognito: Any) -> tuple[str, str]:
    pool_id = cognito.create_user_pool(PoolName="staff")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    cognito.admin_create_user(UserPoolId=pool_id, Username="pat", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username="pat", Password=PASSWORD, Permanent=True
    )
    return pool_id, client_id


def _sign_in(cognito: Any, client_id: str) -> dict[str, Any]:
    return dict(
        cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "pat", "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
    )


def _refresh(cognito: Any, client_id: str, refresh_token: str) -> dict[str, Any]:
    return dict(
        cognito.initiate_auth(
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    )


def test_a_saved_moto_comes_back_with_key_material_users_and_queues(tmp_path: Path) -> None:
    path = tmp_path / persistence.STATE_FILE
    # Given a run that encrypted under a KMS key, created staff and queued a message
    with mock_aws():
        kms, cognito, sqs = (boto3.client(name) for name in ("kms", "cognito-idp", "sqs"))
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        blob = kms.encrypt(KeyId=key_id, Plaintext=b"sealed")["CiphertextBlob"]
        _, client_id = _pool_with_user(cognito)
        queue_url = sqs.create_queue(QueueName="outbound")["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody="ref-1")
        persistence.StateSaver(path, persistence.MotoGate(), lambda: {"seeded": True}).save()

    # When a new moto (empty) is given what was saved
    with mock_aws():
        saved = persistence.load(path)
        assert saved is not None
        persistence.restore(saved.backends)
        kms, cognito, sqs = (boto3.client(name) for name in ("kms", "cognito-idp", "sqs"))

        # Then the ciphertext decrypts, the user signs in, the message is still queued
        assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"sealed"
        assert _sign_in(cognito, client_id)["IdToken"]
        (message,) = sqs.receive_message(QueueUrl=queue_url)["Messages"]
        assert message["Body"] == "ref-1"
        assert saved.app == {"seeded": True}


@pytest.fixture
def signed_in(moto_aws: Any) -> tuple[Any, str, str, str]:
    cognito = boto3.client("cognito-idp")
    pool_id, client_id = _pool_with_user(cognito)
    return cognito, pool_id, client_id, _sign_in(cognito, client_id)["RefreshToken"]


def test_a_disabled_users_refresh_token_is_refused(signed_in: tuple[Any, str, str, str]) -> None:
    cognito, pool_id, client_id, refresh_token = signed_in
    # Given a signed-in user an admin disables
    cognito.admin_disable_user(UserPoolId=pool_id, Username="pat")

    # When the app refreshes, then Cognito's answer: NotAuthorized, user disabled
    with pytest.raises(ClientError) as refused:
        _refresh(cognito, client_id, refresh_token)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert "disabled" in refused.value.response["Error"]["Message"]


def test_a_re_enabled_user_can_refresh_again(signed_in: tuple[Any, str, str, str]) -> None:
    cognito, pool_id, client_id, refresh_token = signed_in
    cognito.admin_disable_user(UserPoolId=pool_id, Username="pat")
    cognito.admin_enable_user(UserPoolId=pool_id, Username="pat")
    assert _refresh(cognito, client_id, refresh_token)["AuthenticationResult"]["IdToken"]


def test_a_refresh_after_global_sign_out_is_refused(signed_in: tuple[Any, str, str, str]) -> None:
    cognito, pool_id, client_id, refresh_token = signed_in
    cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username="pat")
    with pytest.raises(ClientError) as refused:
        _refresh(cognito, client_id, refresh_token)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_the_admin_flow_refuses_a_token_it_never_issued(
    signed_in: tuple[Any, str, str, str],
) -> None:
    cognito, pool_id, client_id, _ = signed_in
    with pytest.raises(ClientError) as refused:
        cognito.admin_initiate_auth(
            UserPoolId=pool_id,
            ClientId=client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": "never-issued"},
        )
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"


def test_sign_out_everywhere_by_username_revokes_tokens_issued_by_email(moto_aws: Any) -> None:
    # Given a pool keyed by e-mail (as the staff pool is) and a user signed in by e-mail
    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="staff", UsernameAttributes=["email"])["UserPool"][
        "Id"
    ]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    email = "pat@example.org"
    username = cognito.admin_create_user(
        UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS"
    )["User"]["Username"]
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True
    )
    refresh_token = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["RefreshToken"]

    # When an admin signs them out everywhere by their username (the staff API's way)
    cognito.admin_user_global_sign_out(UserPoolId=pool_id, Username=username)

    # Then the token issued at the e-mail sign-in is refused too
    with pytest.raises(ClientError) as refused:
        _refresh(cognito, client_id, refresh_token)
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
