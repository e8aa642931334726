"""Make moto's Cognito revoke and refuse refresh tokens as Cognito does.

Cognito answers REFRESH_TOKEN_AUTH for a disabled user with NotAuthorizedException
("User is disabled."). moto 5 checks `enabled` on password sign-in only, so a disabled
user could keep minting tokens from a refresh token in local mode.

Global sign-out (AdminUserGlobalSignOut) revokes every refresh and access token of the
user in Cognito; moto revoked only tokens issued under the very string it was given, so
signing out by the user's username (a UUID in a pool keyed by e-mail, as the staff API
does) left the tokens issued at sign-in by e-mail working. moto's admin flow also raised
a KeyError (a 500) for a refresh token it never issued, where Cognito says
NotAuthorizedException.

moto 5 accepts `AuthFlow=CUSTOM_AUTH` and answers nothing (its branch returns None). The
custom-authentication flow is emulated here as Cognito documents it: define, create,
then for each answer verify and define again, with the pool's triggers (registered by
pool id: local mode's are the deployed handler on local services), the app client's
`ALLOW_CUSTOM_AUTH` required, a disabled user refused, an unknown one run through the
triggers with `userNotFound` and refused at the end, and each session answered once.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from moto.cognitoidp.exceptions import InvalidParameterException, NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUserPool
from moto.core.exceptions import JsonRESTError

Trigger = Callable[[dict[str, Any]], dict[str, Any]]
CUSTOM_AUTH, CUSTOM_CHALLENGE = "CUSTOM_AUTH", "CUSTOM_CHALLENGE"
_REFUSED = "Incorrect username or password."
SESSION_SECONDS = 180  # an app client's AuthSessionValidity default: 3 minutes


class UnexpectedLambdaException(JsonRESTError):
    """Cognito's answer when a trigger fails: a 400 naming the trigger kind, no detail."""

    def __init__(self, message: str) -> None:
        super().__init__("UnexpectedLambdaException", message)


_MARK = "_quietline_checks_enabled"


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def create_tokens_from_refresh_token(self: CognitoIdpUserPool, refresh_token: str) -> Any:
        issued = self.refresh_tokens.get(refresh_token)
        if issued is None:  # never issued, or revoked by a global sign-out
            raise NotAuthorizedError("Invalid Refresh Token")
        _, username, _ = issued
        if username and not self._get_user(username).enabled:
            raise NotAuthorizedError("User is disabled.")
        return method(self, refresh_token)

    setattr(create_tokens_from_refresh_token, _MARK, True)
    return create_tokens_from_refresh_token


def _sign_out(self: CognitoIdpUserPool, username: str) -> None:
    """Revoke every token of the user `username` names, whichever alias it was issued to."""
    user = self._get_user(username)

    def theirs(name: str | None) -> bool:
        return name == username or (user is not None and self._get_user(name or "") is user)

    for token, issued in list(self.refresh_tokens.items()):
        if issued is not None and theirs(issued[1]):
            self.refresh_tokens[token] = None
    for token, (_, name) in list(self.access_tokens.items()):
        if theirs(name):
            self.access_tokens.pop(token)


setattr(_sign_out, _MARK, True)


# --- the custom-authentication flow ---------------------------------------------------------
_triggers: dict[str, Trigger] = {}


def use_custom_auth(user_pool_id: str, trigger: Trigger) -> None:
    """What the pool's Define/Create/VerifyAuthChallenge triggers run (one function, as
    deployed): `trigger(event) -> event`, Cognito's event shapes."""
    _triggers[user_pool_id] = trigger


def forget_custom_auth(user_pool_id: str) -> None:
    """The pool has no custom-auth triggers any more (a test's pool, torn down)."""
    _triggers.pop(user_pool_id, None)


@dataclass
class _Flow:
    pool: CognitoIdpUserPool
    client_id: str
    username: str
    user_not_found: bool
    attributes: dict[str, str]
    private: dict[str, str] = field(default_factory=dict)
    metadata: str = ""
    session: list[dict[str, Any]] = field(default_factory=list)
    issued_at: float = 0.0  # monotonic: when its current session was handed out


_flows: dict[str, _Flow] = {}
_flows_guard = threading.Lock()


def _invoke(flow: _Flow, source: str, request: dict[str, Any]) -> dict[str, Any]:
    event = {
        "version": "1",
        "region": flow.pool.region,
        "userPoolId": flow.pool.id,
        "userName": flow.username,
        "callerContext": {"awsSdkVersion": "local", "clientId": flow.client_id},
        "triggerSource": source,
        "request": {
            "userAttributes": flow.attributes,
            "userNotFound": flow.user_not_found,
            "session": list(flow.session),
            **request,
        },
        "response": {},
    }
    try:
        answer: dict[str, Any] = _triggers[flow.pool.id](event)["response"]
    except Exception:  # whatever the trigger raised, Cognito says only this
        kind = source.split("_", 1)[0]
        raise UnexpectedLambdaException(f"{kind} failed with error.") from None
    return answer


def _next(flow: _Flow) -> dict[str, Any]:
    """Define, then tokens, a refusal, or the next challenge (created, under a new session)."""
    decided = _invoke(flow, "DefineAuthChallenge_Authentication", {})
    if decided.get("issueTokens") and not decided.get("failAuthentication"):
        if flow.user_not_found:  # Cognito never issues tokens for nobody
            raise NotAuthorizedError(_REFUSED)
        return _tokens(flow)
    if decided.get("failAuthentication") or decided.get("challengeName") != CUSTOM_CHALLENGE:
        raise NotAuthorizedError(_REFUSED)
    created = _invoke(
        flow, "CreateAuthChallenge_Authentication", {"challengeName": CUSTOM_CHALLENGE}
    )
    flow.private = dict(created.get("privateChallengeParameters") or {})
    flow.metadata = str(created.get("challengeMetadata") or "")
    session = str(uuid.uuid4())
    flow.issued_at = time.monotonic()
    with _flows_guard:
        for stale in [
            k for k, f in _flows.items() if flow.issued_at - f.issued_at > SESSION_SECONDS
        ]:
            del _flows[stale]  # unanswered sessions expire, as Cognito's do
        _flows[session] = flow
    return {
        "ChallengeName": CUSTOM_CHALLENGE,
        "Session": session,
        "ChallengeParameters": {
            **(created.get("publicChallengeParameters") or {}),
            "USERNAME": flow.username,
        },
    }


def _tokens(flow: _Flow) -> dict[str, Any]:
    pool = flow.pool
    refresh, origin_jti = pool.create_refresh_token(flow.client_id, flow.username)
    access, expires_in = pool.create_access_token(
        flow.client_id, flow.username, origin_jti=origin_jti
    )
    id_token, _ = pool.create_id_token(flow.client_id, flow.username, origin_jti=origin_jti)
    return {
        "ChallengeParameters": {},
        "AuthenticationResult": {
            "IdToken": id_token,
            "AccessToken": access,
            "RefreshToken": refresh,
            "ExpiresIn": expires_in,
            "TokenType": "Bearer",
        },
    }


def _start(self: CognitoIdpBackend, client_id: str, parameters: dict[str, str]) -> dict[str, Any]:
    pool = next((p for p in self.user_pools.values() if client_id in p.clients), None)
    if pool is None:
        raise NotAuthorizedError("Invalid client id")
    flows = pool.clients[client_id].extended_config.get("ExplicitAuthFlows") or []
    if "ALLOW_CUSTOM_AUTH" not in flows:
        raise InvalidParameterException("Auth flow not enabled for this client")
    if pool.id not in _triggers:
        raise InvalidParameterException("Custom auth lambda trigger is not configured")
    username = str(parameters.get("USERNAME") or "")
    if not username:
        raise InvalidParameterException("Missing required parameter USERNAME")
    user = pool._get_user(username)
    if user is not None and not user.enabled:
        raise NotAuthorizedError("User is disabled.")
    attributes: dict[str, str] = {}
    if user is not None:
        attributes = {str(a["Name"]): str(a["Value"]) for a in user.attributes}
        attributes.setdefault("sub", user.id)
    flow = _Flow(pool, client_id, user.username if user else username, user is None, attributes)
    return _next(flow)


def _answer(self: CognitoIdpBackend, session: str, responses: dict[str, str]) -> dict[str, Any]:
    with _flows_guard:
        flow = _flows.pop(session, None)  # a session is answered once
    if flow is None or time.monotonic() - flow.issued_at > SESSION_SECONDS:
        raise NotAuthorizedError("Invalid session for the user, session is expired.")
    verified = _invoke(
        flow,
        "VerifyAuthChallengeResponse_Authentication",
        {
            "privateChallengeParameters": flow.private,
            "challengeAnswer": str(responses.get("ANSWER", "")),
        },
    )
    flow.session.append(
        {
            "challengeName": CUSTOM_CHALLENGE,
            "challengeResult": verified.get("answerCorrect") is True,
            "challengeMetadata": flow.metadata,
        }
    )
    return _next(flow)


def _with_custom_auth(initiate: Callable[..., Any], respond: Callable[..., Any]) -> tuple[Any, Any]:
    @functools.wraps(initiate)
    def initiate_auth(
        self: CognitoIdpBackend, client_id: str, auth_flow: str, auth_parameters: dict[str, str]
    ) -> Any:
        if auth_flow == CUSTOM_AUTH:
            return _start(self, client_id, auth_parameters or {})
        return initiate(self, client_id, auth_flow, auth_parameters)

    @functools.wraps(respond)
    def respond_to_auth_challenge(
        self: CognitoIdpBackend,
        session: str,
        client_id: str,
        challenge_name: str,
        challenge_responses: dict[str, str],
    ) -> Any:
        if challenge_name == CUSTOM_CHALLENGE:
            return _answer(self, session, challenge_responses or {})
        return respond(self, session, client_id, challenge_name, challenge_responses)

    for patched in (initiate_auth, respond_to_auth_challenge):
        setattr(patched, _MARK, True)
    return initiate_auth, respond_to_auth_challenge


def install() -> None:
    """Patch moto's user pool and backend once per process (idempotent)."""
    current = CognitoIdpUserPool.create_tokens_from_refresh_token
    if not getattr(current, _MARK, False):
        CognitoIdpUserPool.create_tokens_from_refresh_token = _checked(current)  # type: ignore[method-assign]
    CognitoIdpUserPool.sign_out = _sign_out  # type: ignore[method-assign]
    if not getattr(CognitoIdpBackend.initiate_auth, _MARK, False):
        initiate, respond = _with_custom_auth(
            CognitoIdpBackend.initiate_auth, CognitoIdpBackend.respond_to_auth_challenge
        )
        CognitoIdpBackend.initiate_auth = initiate  # type: ignore[method-assign]
        CognitoIdpBackend.respond_to_auth_challenge = respond  # type: ignore[method-assign]


def installed() -> bool:
    return all(
        getattr(method, _MARK, False)
        for method in (
            CognitoIdpUserPool.create_tokens_from_refresh_token,
            CognitoIdpUserPool.sign_out,
            CognitoIdpBackend.initiate_auth,
            CognitoIdpBackend.respond_to_auth_challenge,
        )
    )
