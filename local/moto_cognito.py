"""Make moto's Cognito refuse a disabled user's refresh token, as Cognito does.

Cognito answers REFRESH_TOKEN_AUTH for a disabled user with NotAuthorizedException
("User is disabled."). moto 5 checks `enabled` on password sign-in only, so a disabled
user could keep minting tokens from a refresh token in local mode. (Global sign-out is
already right in moto: AdminUserGlobalSignOut revokes the user's refresh tokens.) Its
admin flow also raised a KeyError (a 500) for a refresh token it never issued, where
Cognito says NotAuthorizedException.
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


def install() -> None:
    """Patch moto's user pool once per process (idempotent)."""
    current = CognitoIdpUserPool.create_tokens_from_refresh_token
    if not getattr(current, _MARK, False):
        CognitoIdpUserPool.create_tokens_from_refresh_token = _checked(current)  # type: ignore[method-assign]


def installed() -> bool:
    return bool(getattr(CognitoIdpUserPool.create_tokens_from_refresh_token, _MARK, False))
