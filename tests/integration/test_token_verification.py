"""API Gateway's Cognito authorizer as local mode plays it: real RS256 tokens from moto's
pool, checked against the pool's JWKS, issuer, audience and expiry."""

from __future__ import annotations

import gzip
import json
import time
from importlib.resources import files
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.identity import CognitoAuthorizer, LocalPool, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture
def pool_and_authorizer(
    staff_pool: LocalPool, monkeypatch: pytest.MonkeyPatch
) -> tuple[LocalPool, CognitoAuthorizer]:
    pool = staff_pool
    authorizer = CognitoAuthorizer("http://moto.invalid", "us-east-1", pool)
    public = json.loads(
        gzip.decompress(
            files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
        )
    )
    # The JWKS moto would serve at <endpoint>/<pool>/.well-known/jwks.json.
    monkeypatch.setattr(
        CognitoAuthorizer, "_keys", {k["kid"]: jwt.PyJWK(k).key for k in public["keys"]}
    )
    return pool, authorizer


def _moto_private_key() -> Any:
    private = json.loads(
        gzip.decompress(
            files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
        )
    )
    return jwt.PyJWK(private).key


def _forge(claims: dict[str, Any], key: Any = None) -> str:
    return jwt.encode(
        claims, key or _moto_private_key(), algorithm="RS256", headers={"kid": "dummy"}
    )


def test_a_signed_in_users_id_token_passes_with_its_claims(
    pool_and_authorizer: tuple[LocalPool, CognitoAuthorizer],
) -> None:
    pool, authorizer = pool_and_authorizer
    tokens = sign_in(boto3.client("cognito-idp"), pool.client_id, pool.users[0])
    claims = authorizer.claims(tokens["IdToken"])
    assert claims is not None
    assert claims["custom:tenant_id"] == pool.users[0].tenant_id and claims["token_use"] == "id"
    assert authorizer.claims("Bearer " + tokens["IdToken"]) == claims


def test_sign_in_needs_the_mfa_challenge(
    pool_and_authorizer: tuple[LocalPool, CognitoAuthorizer], moto_aws: None
) -> None:
    import boto3

    pool, _ = pool_and_authorizer
    user = pool.users[0]
    first = boto3.client("cognito-idp").initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.email, "PASSWORD": user.password},
    )
    assert first["ChallengeName"] == "SOFTWARE_TOKEN_MFA" and "AuthenticationResult" not in first


@pytest.mark.parametrize(
    "problem", ["expired", "wrong-audience", "wrong-issuer", "foreign-key", "garbage", "missing"]
)
def test_bad_tokens_are_refused(
    pool_and_authorizer: tuple[LocalPool, CognitoAuthorizer], problem: str
) -> None:
    pool, authorizer = pool_and_authorizer
    now = int(time.time())
    claims = {
        "sub": "u1",
        "token_use": "id",
        "aud": pool.client_id,
        "iat": now,
        "exp": now + 600,
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{pool.user_pool_id}",
        "custom:tenant_id": "harbor",
        "custom:role": "admin",
        "auth_time": now,
    }
    # The control: a well-formed token passes with its claims (as strings, as API Gateway
    # hands them over).
    assert authorizer.claims(_forge(claims)) == {name: str(value) for name, value in claims.items()}
    if problem == "expired":
        token = _forge({**claims, "iat": now - 7200, "exp": now - 3600})
    elif problem == "wrong-audience":
        token = _forge({**claims, "aud": "another-app"})
    elif problem == "wrong-issuer":
        token = _forge(
            {**claims, "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"}
        )
    elif problem == "foreign-key":
        token = _forge(claims, rsa.generate_private_key(public_exponent=65537, key_size=2048))
    elif problem == "garbage":
        token = "not.a.token"
    else:
        token = ""
    assert authorizer.claims(token) is None
