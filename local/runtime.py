"""`make run`: moto for AWS, the handlers over HTTP, a demo practice, until Ctrl-C.

Environment: QUIETLINE_PORT (default 8000; 0 picks a free port), QUIETLINE_AWS_PORT
(moto; default 0 = a free port), QUIETLINE_STATE_DIR (default .quietline), and
QUIETLINE_CONFIG (default quietline.config.json).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from functions.core.settings import ENV_STAGE, ENV_TABLE_NAME
from infra.config import REPO_ROOT, ConfigError, load_config
from local.bootstrap import bootstrap, enforce_kms_key_state
from local.routes import ROUTES
from local.server import make_server

HOST = "127.0.0.1"
TABLE_NAME = "quietline-local"
logger = logging.getLogger("quietline.local")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _point_aws_at(endpoint: str, region: str) -> None:
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            ENV_TABLE_NAME: TABLE_NAME,
            ENV_STAGE: "local",
        }
    )
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(name, None)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        config = load_config()
    except ConfigError as error:
        print(f"quietline: {error}", file=sys.stderr)
        return 2

    aws_port = int(os.environ.get("QUIETLINE_AWS_PORT", "0")) or _free_port()
    moto = ThreadedMotoServer(ip_address=HOST, port=aws_port, verbose=False)
    moto.start()
    endpoint = f"http://{HOST}:{aws_port}"
    _point_aws_at(endpoint, config.region)
    enforce_kms_key_state()
    bootstrap(config, TABLE_NAME)

    server = make_server(HOST, int(os.environ.get("QUIETLINE_PORT", "8000")), ROUTES)
    base_url = f"http://{HOST}:{server.server_address[1]}"
    first = config.tenants[0]
    state: dict[str, Any] = {
        "base_url": base_url,
        "aws_endpoint_url": endpoint,
        "region": config.region,
        "table_name": TABLE_NAME,
        "tenant_id": first.id,
        "business_number": first.business_numbers[0],
        "tenants": [{"id": t.id, "business_numbers": t.business_numbers} for t in config.tenants],
    }
    state_dir = Path(os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline")
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "local.json"
    state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print(f"Quietline is running at {base_url}  (state: {state_file}; Ctrl-C stops)", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        moto.stop()
        state_file.unlink(missing_ok=True)
        print("Quietline stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
