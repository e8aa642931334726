"""`quietline web publish`: put web/ and its config.json into the stack's inbox bucket.

What goes up is exactly what local mode serves for a deployment: the inbox and secure
pages, and every asset under web/app/ whose name the distribution's viewer function
admits, except local mode's own scripts (infra/web_policy.py's LOCAL_ONLY_ASSETS: the
phone simulator's, the demo panel's and its TOTP helper; the phone page stays local
too). Each object carries its content type and the same Cache-Control as local mode;
objects no longer in web/ are removed, so a renamed or no longer published script
cannot linger. The files hold no PHI. The bucket's server access
logs record each PUT and DELETE with the caller's identity.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli.target import Target
from infra.config import QuietlineConfig
from infra.web_policy import (
    ASSET_DIR,
    ASSET_NAME_PATTERN,
    CONFIG_ASSET,
    CONTENT_TYPES,
    DEPLOYED_PAGES,
    LOCAL_ONLY_ASSETS,
    cache_control,
    cognito_endpoint_for,
)

# Local mode's own scripts; config.json is generated below, never copied.
UNPUBLISHED_ASSETS = LOCAL_ONLY_ASSETS | {CONFIG_ASSET}
_ASSET_NAME = re.compile(ASSET_NAME_PATTERN)


@dataclass(frozen=True)
class WebObject:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def _object(key: str, body: bytes) -> WebObject:
    suffix = Path(key).suffix.lower()
    return WebObject(key, body, CONTENT_TYPES[suffix], cache_control(key))


def web_config(target: Target, config: QuietlineConfig) -> dict[str, Any]:
    """The deployed counterpart of local/static.py's web_config(): no secrets, no PHI."""
    return {
        "cognito_endpoint": cognito_endpoint_for(config.region),
        "user_pool_client_id": target.output("UserPoolClientId"),
        "api_base_url": target.output("ApiUrl").rstrip("/"),
        # The clients' secure page calls its own API, apart from the staff API.
        "secure_api_base_url": target.output("SecureApiUrl").rstrip("/"),
        "idle_timeout_seconds": config.idle_timeout_minutes * 60,
        "local_mode": False,
    }


def site_objects(web_root: Path, config_json: dict[str, Any]) -> list[WebObject]:
    objects = [_object(page, (web_root / page).read_bytes()) for page in DEPLOYED_PAGES]
    for path in sorted((web_root / ASSET_DIR).iterdir()):
        name = path.name
        if path.is_file() and _ASSET_NAME.fullmatch(name) and name not in UNPUBLISHED_ASSETS:
            objects.append(_object(f"{ASSET_DIR}/{name}", path.read_bytes()))
    body = json.dumps(config_json, indent=2).encode()
    objects.append(_object(f"{ASSET_DIR}/{CONFIG_ASSET}", body))
    return objects


def publish(s3: Any, bucket: str, objects: list[WebObject]) -> tuple[int, int]:
    """Upload every object, then delete what is no longer published; (put, deleted)."""
    for obj in objects:
        s3.put_object(
            Bucket=bucket,
            Key=obj.key,
            Body=obj.body,
            ContentType=obj.content_type,
            CacheControl=obj.cache_control,
        )
    wanted = {obj.key for obj in objects}
    stale = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for item in page.get("Contents", [])
        if item["Key"] not in wanted
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]},
        )
    return len(objects), len(stale)
