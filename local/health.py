"""GET /health in local mode: the server answers (no PHI, no authentication, no AWS call).

Local mode only: a deployment has no such route, so it is not in the Lambda bundle.
"""

from __future__ import annotations

import json
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps({"status": "ok"}),
    }
