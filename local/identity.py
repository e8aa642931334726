"""Staff identity in local mode: the Cognito user pool in moto, and API Gateway's
Cognito authorizer played in front of the API (real RS256 JWTs, checked against the
pool's own JWKS, issuer and audience, as API Gateway checks them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import struct
import time
import urllib.request
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

import jwt

from functions.container import Container
from functions.dal.schema import USER_POOL
from functions.dal.users import ROLE_ATTRIBUTE, TENANT_ATTRIBUTE, tenant_group
from functions.handlers import passkey_sign_in
from infra.config import QuietlineConfig
from local.apigw import LambdaContext
from local.persistence import MotoGate


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    role: str
    tenant_id: str
    totp_secret: str


@dataclass(frozen=True)
class LocalPool:
    user_pool_id: str
    client_id: str
    users: tuple[DemoUser, ...]


def _password() -> str:
    # Meets the pool policy: length, upper, lower, digit, symbol.
    alphabet = string.ascii_letters + string.digits
    return "Ql-" + "".join(secrets.choice(alphabet) for _ in range(16)) + "7a!"


def pool_from_saved(saved: dict[str, Any]) -> LocalPool:
    """A LocalPool as `asdict` saved it (local/persistence.py keeps it between runs)."""
    users = tuple(DemoUser(**user) for user in saved["users"])
    return LocalPool(saved["user_pool_id"], saved["client_id"], users)


# As deployed (infra/constructs/identity.py): password + TOTP, passkey sign-in (Cognito's
# custom flow, local/moto_cognito.py) and refresh.
INBOX_AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


def ensure_pool(cognito: Any, config: QuietlineConfig, saved: LocalPool | None) -> LocalPool:
    """The saved pool and its demo staff when moto still holds it (so the credentials stay
    what the developer already uses), with demo staff added for any tenant new in the
    config; otherwise a new pool with random credentials."""
    if saved is None or not _pool_exists(cognito, saved.user_pool_id):
        return create_pool(cognito, config)
    # A pool saved before passkey sign-in lacks the custom flow on its client.
    cognito.update_user_pool_client(
        UserPoolId=saved.user_pool_id,
        ClientId=saved.client_id,
        ClientName="quietline-web",
        ExplicitAuthFlows=list(INBOX_AUTH_FLOWS),
    )
    users = list(saved.users)
    have = {(user.tenant_id, user.role) for user in users}
    for tenant in config.tenants:
        wanted = [role for role in ("admin", "clinician") if (tenant.id, role) not in have]
        if wanted and not any(user.tenant_id == tenant.id for user in users):
            cognito.create_group(UserPoolId=saved.user_pool_id, GroupName=tenant_group(tenant.id))
        for role in wanted:
            users.append(_demo_user(cognito, saved.user_pool_id, saved.client_id, tenant.id, role))
    return LocalPool(saved.user_pool_id, saved.client_id, tuple(users))


def _pool_exists(cognito: Any, pool_id: str) -> bool:
    try:
        cognito.describe_user_pool(UserPoolId=pool_id)
    except cognito.exceptions.ResourceNotFoundException:
        return False
    return True


def create_pool(cognito: Any, config: QuietlineConfig) -> LocalPool:
    """The pool as deployed (MFA required, TOTP, admin-invite only) plus demo staff."""
    pool_id = cognito.create_user_pool(
        PoolName="quietline-staff",
        MfaConfiguration="ON",
        UsernameAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Policies={
            "PasswordPolicy": {
                "MinimumLength": USER_POOL.password_min_length,
                "RequireUppercase": True,
                "RequireLowercase": True,
                "RequireNumbers": True,
                "RequireSymbols": True,
            }
        },
        Schema=[
            {"Name": name, "AttributeDataType": "String", "Mutable": True}
            for name in USER_POOL.custom_attributes
        ],
    )["UserPool"]["Id"]
    # moto takes TOTP here, not in create_user_pool.
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": True},
        MfaConfiguration="ON",
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="quietline-web",
        GenerateSecret=False,
        ExplicitAuthFlows=list(INBOX_AUTH_FLOWS),
    )["UserPoolClient"]["ClientId"]
    users = []
    for tenant in config.tenants:
        cognito.create_group(UserPoolId=pool_id, GroupName=tenant_group(tenant.id))
        for role in ("admin", "clinician"):
            users.append(_demo_user(cognito, pool_id, client_id, tenant.id, role))
    return LocalPool(pool_id, client_id, tuple(users))


def _demo_user(cognito: Any, pool_id: str, client_id: str, tenant_id: str, role: str) -> DemoUser:
    email = f"{role}@{tenant_id}.quietline.local"
    password = _password()
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
            {"Name": TENANT_ATTRIBUTE, "Value": tenant_id},
            {"Name": ROLE_ATTRIBUTE, "Value": role},
        ],
    )
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=password, Permanent=True
    )
    cognito.admin_add_user_to_group(
        UserPoolId=pool_id, Username=email, GroupName=tenant_group(tenant_id)
    )
    # Enroll TOTP the way a person does at first sign-in: associate, verify, prefer.
    first = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )
    access_token = first["AuthenticationResult"]["AccessToken"]
    secret = cognito.associate_software_token(AccessToken=access_token)["SecretCode"]
    cognito.verify_software_token(AccessToken=access_token, UserCode=totp(secret))
    cognito.admin_set_user_mfa_preference(
        UserPoolId=pool_id,
        Username=email,
        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True},
    )
    return DemoUser(email, password, role, tenant_id, secret)


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (30 s, 6 digits, SHA-1), as an authenticator app computes it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8), casefold=True)
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def sign_in(cognito: Any, client_id: str, user: DemoUser) -> dict[str, str]:
    """Password, then the TOTP challenge: the tokens the web inbox would hold."""
    challenge = cognito.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user.email, "PASSWORD": user.password},
    )
    result = cognito.respond_to_auth_challenge(
        ClientId=client_id,
        ChallengeName=challenge["ChallengeName"],
        Session=challenge["Session"],
        ChallengeResponses={
            "USERNAME": user.email,
            "SOFTWARE_TOKEN_MFA_CODE": totp(user.totp_secret),
        },
    )
    return dict(result["AuthenticationResult"])


class CognitoAuthorizer:
    """API Gateway's Cognito user pool authorizer: the `Authorization` header must hold an
    ID token signed by the pool's key, unexpired, issued by the pool for this client."""

    def __init__(self, aws_endpoint: str, region: str, pool: LocalPool) -> None:
        self._jwks_url = f"{aws_endpoint}/{pool.user_pool_id}/.well-known/jwks.json"
        self._issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool.user_pool_id}"
        self._client_id = pool.client_id

    @cached_property
    def _keys(self) -> dict[str, Any]:
        with urllib.request.urlopen(self._jwks_url, timeout=10) as response:  # noqa: S310 - loopback moto
            jwks = json.loads(response.read())
        return {key["kid"]: jwt.PyJWK(key).key for key in jwks["keys"]}

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        if not authorization:
            return None
        token = authorization.removeprefix("Bearer ").strip()
        try:
            key = self._keys.get(jwt.get_unverified_header(token).get("kid", ""))
            if key is None:
                return None
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "token_use"]},
            )
        except jwt.PyJWTError:
            return None
        # API Gateway hands claims to the Lambda as strings.
        return {name: str(value) for name, value in claims.items()}


def users_for_state(pool: LocalPool) -> list[dict[str, str]]:
    return [asdict(user) for user in pool.users]


def passkey_trigger(
    runtime: Container, gate: MotoGate | None = None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The pool's custom-auth triggers as deployed (functions/handlers/passkey_sign_in.py),
    on local mode's services: what moto_cognito runs for CUSTOM_AUTH. Cognito calls its
    triggers from outside the request; with moto behind `gate`, so does this."""
    handler = passkey_sign_in.handler.bound(runtime)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        with gate.outside() if gate is not None else nullcontext():
            answer: dict[str, Any] = handler(event, LambdaContext("quietline-passkey-sign-in"))
        return answer

    return invoke
