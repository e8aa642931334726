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
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpUserPool

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


def install() -> None:
    """Patch moto's user pool once per process (idempotent)."""
    current = CognitoIdpUserPool.create_tokens_from_refresh_token
    if not getattr(current, _MARK, False):
        CognitoIdpUserPool.create_tokens_from_refresh_token = _checked(current)  # type: ignore[method-assign]
    CognitoIdpUserPool.sign_out = _sign_out  # type: ignore[method-assign]


def installed() -> bool:
    return all(
        getattr(method, _MARK, False)
        for method in (
            CognitoIdpUserPool.create_tokens_from_refresh_token,
            CognitoIdpUserPool.sign_out,
        )
    )
