"""Cognito's REFRESH_TOKEN_AUTH for the staff API's session routes (a public operation of
the app client: no IAM permission is involved, and the client has no secret)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from functions.core.errors import UnauthorizedError
from functions.dal import aws

# Cognito's answers for a refresh token it will not honour: revoked, expired, unknown, or
# its user disabled or deleted. Anything else is Cognito failing, not the caller.
_REFUSED = {"NotAuthorizedException", "UserNotFoundException", "InvalidParameterException"}


class CognitoTokenRefresher:
    def __init__(self, client: Any, client_id: str) -> None:
        self._client = client
        self._client_id = client_id

    def refresh(self, refresh_token: str) -> str:
        try:
            answer = self._client.initiate_auth(
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ClientError as error:
            if aws.error_code(error) in _REFUSED:
                raise UnauthorizedError("the refresh credential was refused") from None
            raise aws.translate(error, "InitiateAuth refresh") from None
        except BotoCoreError as error:
            raise aws.translate(error, "InitiateAuth refresh") from None
        token = (answer.get("AuthenticationResult") or {}).get("IdToken")
        if not isinstance(token, str):
            raise UnauthorizedError("the identity provider answered no token")
        return token
