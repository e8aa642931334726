"""Cognito's custom-authentication triggers -> passkey sign-in (functions/logic/passkey_sign_in.py).

One function answers all three triggers; Cognito names which in `triggerSource`. The
event carries the user's pool attributes (tenant and `sub`, never chosen by the caller)
and the page's answer; nothing of it is logged. A trigger this function was not built for
raises, which Cognito turns into a refused sign-in.
"""

from __future__ import annotations

from typing import Any

from functions.container import Container
from functions.handlers._entry import EntryPoint
from functions.logic import passkey_sign_in as flow

DEFINE = "DefineAuthChallenge_Authentication"
CREATE = "CreateAuthChallenge_Authentication"
VERIFY = "VerifyAuthChallengeResponse_Authentication"


def handle(event: dict[str, Any], context: Any, runtime: Container) -> dict[str, Any]:
    source = event.get("triggerSource")
    request: dict[str, Any] = event.get("request") or {}
    response: dict[str, Any] = event.setdefault("response", {})
    if source == DEFINE:
        decision = flow.decide([_attempt(entry) for entry in request.get("session") or []])
        response["issueTokens"] = decision.issue_tokens
        response["failAuthentication"] = decision.fail
        if decision.challenge_name:
            response["challengeName"] = decision.challenge_name
    elif source == CREATE:
        public, private = flow.challenge()
        response["publicChallengeParameters"] = public
        response["privateChallengeParameters"] = private
        response["challengeMetadata"] = flow.CHALLENGE_METADATA
    elif source == VERIFY:
        member = flow.StaffMember.from_attributes(
            request.get("userAttributes") or {}, bool(request.get("userNotFound"))
        )
        response["answerCorrect"] = runtime.passkey_sign_in().verify(
            member,
            request.get("privateChallengeParameters") or {},
            request.get("challengeAnswer", ""),
            request_id=str(getattr(context, "aws_request_id", "")),
        )
    else:
        raise ValueError("not a custom-authentication trigger")
    return event


def _attempt(entry: dict[str, Any]) -> flow.Attempt:
    return flow.Attempt(
        challenge_name=str(entry.get("challengeName", "")),
        result=entry.get("challengeResult") is True,
        metadata=str(entry.get("challengeMetadata") or ""),
    )


handler = EntryPoint(handle, required=("table_name", "audit_table_name"))
