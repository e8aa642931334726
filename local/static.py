"""The web front end's files in local mode (`web/`), with the headers a deployment sets.

Routes (local/routes.py): `/` the inbox, `/phone` the phone simulator, `/cell` a
clinician's simulated forwarding cell, `/s` the
client's secure-message page, `/app/{asset}` the scripts and styles, `/app/config.json`
what the inbox needs to sign in, and `/local/demo` (local mode only) the demo accounts.

Every answer carries a strict Content-Security-Policy (scripts, styles and fetches from
this origin only, plus Cognito's endpoint, which the browser calls directly to sign in, and
the API's origin when QUIETLINE_WEB_API_BASE_URL puts it elsewhere),
`nosniff` and `no-referrer`; HTML and JSON are `no-store`. Asset names are checked against
a pattern and resolved inside `web/app/`, so no request reaches another file. The
local-only scripts (infra/web_policy.py's LOCAL_ONLY_ASSETS: the demo panel, its TOTP
helper, the phone simulator's) are served only in local mode, as `/local/demo` is, and
`quietline web publish` never uploads them.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from functions.core.settings import ENV_IDLE_TIMEOUT_MINUTES
from infra import web_policy
from infra.config import REPO_ROOT
from infra.web_policy import (
    ASSET_DIR,
    ASSET_NAME_PATTERN,
    CELL_PAGE,
    CONFIG_ASSET,
    CONTENT_TYPES,
    INBOX_PAGE,
    LOCAL_ONLY_ASSETS,
    PHONE_PAGE,
    SECURE_PAGE,
    SECURE_PAGE_PATH,
    SECURITY_HEADERS,
    cache_control,
    cognito_endpoint_for,
    origin,
)

WEB_ROOT = REPO_ROOT / "web"
APP_DIR = WEB_ROOT / ASSET_DIR
PAGES = {
    "/": INBOX_PAGE,
    "/phone": PHONE_PAGE,
    "/cell": CELL_PAGE,
    SECURE_PAGE_PATH: SECURE_PAGE,
    "/sw.js": "sw.js",  # the service worker: served from the root, its scope is the inbox
}
ASSET_ROUTE = "/app/{asset}"
DEMO_ROUTE = "/local/demo"
# Local mode only: the client's idle timer in seconds (demos and tests), instead of the
# server's QUIETLINE_IDLE_TIMEOUT_MINUTES. A deployment has no such knob.
ENV_CLIENT_IDLE_SECONDS = "QUIETLINE_CLIENT_IDLE_SECONDS"
# Where the staff API is, when not on the pages' origin (empty: same origin, as locally).
ENV_WEB_API_BASE_URL = "QUIETLINE_WEB_API_BASE_URL"

_ASSET_NAME = re.compile(ASSET_NAME_PATTERN)
_BINARY = {".png", ".ico"}


def _is_local() -> bool:
    # Local mode writes its state file before it serves anything.
    return _state() is not None


def cognito_endpoint() -> str:
    """Where the browser sends InitiateAuth / RespondToAuthChallenge.

    Local mode: the moto server (it answers CORS preflights for any origin). Deployed:
    Cognito's regional endpoint.
    """
    endpoint = (_state() or {}).get("aws_endpoint_url")
    if endpoint:
        return origin(endpoint)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    return cognito_endpoint_for(region)


def api_base_url() -> str:
    return os.environ.get(ENV_WEB_API_BASE_URL, "").strip().rstrip("/")


def content_security_policy() -> str:
    api = api_base_url()
    return web_policy.content_security_policy(cognito_endpoint(), origin(api) if api else None)


def security_headers() -> dict[str, str]:
    return {"Content-Security-Policy": content_security_policy(), **SECURITY_HEADERS}


def _response(
    status: int, body: bytes | str, content_type: str, *, cache: str = "no-store"
) -> dict[str, Any]:
    headers = security_headers() | {"Content-Type": content_type, "Cache-Control": cache}
    if isinstance(body, bytes):
        return {
            "statusCode": status,
            "headers": headers,
            "body": base64.b64encode(body).decode(),
            "isBase64Encoded": True,
        }
    return {"statusCode": status, "headers": headers, "body": body}


def _json(status: int, payload: Any) -> dict[str, Any]:
    return _response(status, json.dumps(payload), "application/json")


def _not_found() -> dict[str, Any]:
    return _json(404, {"error": "not found"})


def _file(path: Path) -> dict[str, Any]:
    suffix = path.suffix.lower()
    content_type = CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0]
    if content_type is None:
        return _not_found()
    if suffix in _BINARY:
        return _response(200, path.read_bytes(), content_type, cache=cache_control(path.name))
    return _response(
        200, path.read_text(encoding="utf-8"), content_type, cache=cache_control(path.name)
    )


def resolve_asset(name: str) -> Path | None:
    """The file under web/app/ this name means, or None: nothing outside it, ever."""
    if not _ASSET_NAME.fullmatch(name):
        return None
    root = APP_DIR.resolve()
    candidate = (root / name).resolve()
    if candidate.parent != root or not candidate.is_file():
        return None
    return candidate


def _state() -> dict[str, Any] | None:
    """The local runtime's state file (written before the server starts serving)."""
    state_dir = Path(os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline")
    try:
        state: dict[str, Any] = json.loads((state_dir / "local.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return state


def idle_timeout_seconds() -> int:
    if _is_local():
        override = os.environ.get(ENV_CLIENT_IDLE_SECONDS, "").strip()
        if override.isdigit() and int(override) > 0:
            return int(override)
    minutes = os.environ.get(ENV_IDLE_TIMEOUT_MINUTES, "15").strip()
    return int(minutes) * 60 if minutes.isdigit() and int(minutes) > 0 else 15 * 60


def web_config() -> dict[str, Any]:
    """What the inbox needs before sign-in. A deployment publishes the same fields as a
    static web/app/config.json; local mode computes them from its running state."""
    state = _state() or {}
    return {
        "cognito_endpoint": cognito_endpoint(),
        "user_pool_client_id": state.get("user_pool_client_id", ""),
        "api_base_url": api_base_url(),
        # One port serves the staff and secure-link routes locally; deployed, they differ.
        "secure_api_base_url": api_base_url(),
        "idle_timeout_seconds": idle_timeout_seconds(),
        "local_mode": _is_local(),
    }


def demo_info() -> dict[str, Any] | None:
    """Local mode only: the demo staff accounts and the phone simulator's endpoints."""
    if not _is_local():
        return None
    state = _state()
    if state is None:
        return None
    return {
        "practice_numbers": [n for t in state.get("tenants", []) for n in t["business_numbers"]],
        "business_number": state.get("business_number", ""),
        "users": [
            {k: user[k] for k in ("email", "password", "role", "totp_secret")}
            for user in state.get("users", [])
        ],
        "aws_sms_inbound_url": urlsplit(state.get("aws_sms_inbound_url", "")).path,
        "outbox_url": urlsplit(state.get("outbox_url", "")).path,
        "phone_url": "/phone",
        "idle_timeout_seconds": idle_timeout_seconds(),
    }


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The local server's handler for every front-end route (an API Gateway proxy event)."""
    resource = event.get("resource", "")
    params = event.get("pathParameters") or {}
    if resource in PAGES:
        return _file(WEB_ROOT / PAGES[resource])
    if resource == ASSET_ROUTE:
        name = params.get("asset", "")
        if name == CONFIG_ASSET:
            return _json(200, web_config())
        if name in LOCAL_ONLY_ASSETS and not _is_local():
            return _not_found()
        path = resolve_asset(name)
        return _file(path) if path else _not_found()
    if resource == DEMO_ROUTE:
        info = demo_info()
        return _json(200, info) if info else _not_found()
    return _not_found()
