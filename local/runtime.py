"""`make run`: moto for AWS, the handlers over HTTP, a demo practice, until Ctrl-C.

Environment: QUIETLINE_PORT (default 8000; 0 picks a free port), QUIETLINE_AWS_PORT
(moto; default 0 = a free port), QUIETLINE_STATE_DIR (default .quietline), and
QUIETLINE_CONFIG (default quietline.config.json).
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

from functions import wiring
from functions.core.observability import redact
from functions.core.settings import (
    ENV_AUDIT_RETENTION_DAYS,
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_PUBLIC_BASE_URL,
    ENV_RETRY_QUEUE_URL,
    ENV_SECURE_LINK_BASE_URL,
    ENV_STAFF_TOPIC_ARN,
    ENV_STAGE,
    ENV_TABLE_NAME,
    ENV_USER_POOL_ID,
)
from functions.dal.schema import (
    AUDIT_SEALER_FILTER,
    OUTBOUND_QUEUE,
    RETRY_QUEUE,
    create_audit_table_kwargs,
)
from infra.config import REPO_ROOT, ConfigError, load_config
from local import moto_dynamodb, streams, workers
from local.bootstrap import (
    bootstrap,
    enforce_kms_key_state,
    ensure_queue,
    ensure_staff_topic,
    ensure_table,
)
from local.identity import CognitoAuthorizer, create_pool, users_for_state
from local.routes import (
    AWS_SMS_INBOUND_PATH,
    OUTBOX_PATH,
    ROUTES,
    TWILIO_SMS_PATH,
    TWILIO_STATUS_PATH,
)
from local.server import make_server, use_authorizer
from local.sim_carrier import CARRIER

HOST = "127.0.0.1"
TABLE_NAME = "quietline-local"
AUDIT_TABLE_NAME = "quietline-local-audit"
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


class RedactingTextFormatter(logging.Formatter):
    """The local runtime's own log lines (and tracebacks) pass the same PHI mask as Lambda's."""

    def format(self, record: logging.LogRecord) -> str:
        return str(redact(super().format(record)))


def _handler(module: str) -> workers.Handler:
    handler: workers.Handler = importlib.import_module(module).handler
    return handler


def _worker(target: Any, queue_url: str, module: str, stop: threading.Event) -> threading.Thread:
    return threading.Thread(target=target, args=(queue_url, _handler(module), stop), daemon=True)


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingTextFormatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> int:
    _configure_logging()
    try:
        config = load_config()
    except ConfigError as error:
        print(f"quietline: {error}", file=sys.stderr)
        return 2

    port = int(os.environ.get("QUIETLINE_PORT", "8000"))
    try:
        # Bind first: a busy port should fail in one line before anything starts.
        server = make_server(HOST, port, ROUTES)
    except OSError:
        print(f"quietline: port {port} is in use; set QUIETLINE_PORT to another", file=sys.stderr)
        return 2
    aws_port = int(os.environ.get("QUIETLINE_AWS_PORT", "0")) or _free_port()
    moto_dynamodb.install()  # the server answers on many threads; DynamoDB is atomic
    moto = ThreadedMotoServer(ip_address=HOST, port=aws_port, verbose=False)
    moto.start()
    endpoint = f"http://{HOST}:{aws_port}"
    _point_aws_at(endpoint, config.region)
    enforce_kms_key_state()
    bootstrap(config, TABLE_NAME)
    ensure_table(AUDIT_TABLE_NAME, create_audit_table_kwargs)
    (outbound_url, outbound_dlq_url), (retry_url, retry_dlq_url) = (
        ensure_queue(OUTBOUND_QUEUE),
        ensure_queue(RETRY_QUEUE),
    )

    pool = create_pool(config)
    use_authorizer(server, CognitoAuthorizer(endpoint, config.region, pool))
    base_url = f"http://{HOST}:{server.server_address[1]}"
    os.environ.update(
        {
            ENV_CARRIER: "simulated",
            ENV_OUTBOUND_QUEUE_URL: outbound_url,
            ENV_RETRY_QUEUE_URL: retry_url,
            ENV_STAFF_TOPIC_ARN: ensure_staff_topic(),
            ENV_USER_POOL_ID: pool.user_pool_id,
            ENV_AUDIT_TABLE_NAME: AUDIT_TABLE_NAME,
            ENV_SECURE_LINK_BASE_URL: base_url,
            ENV_AUDIT_RETENTION_DAYS: str(config.audit_retention_days),
            # Twilio signs the URL it calls; locally that is this server.
            ENV_PUBLIC_BASE_URL: base_url,
        }
    )
    twilio_auth_token = secrets.token_hex(16)
    CARRIER.on_sent = workers.report_delivery
    wiring.override(carrier=CARRIER, twilio_auth_token=twilio_auth_token)
    first = config.tenants[0]
    state: dict[str, Any] = {
        "base_url": base_url,
        "aws_endpoint_url": endpoint,
        "region": config.region,
        "table_name": TABLE_NAME,
        "audit_table_name": AUDIT_TABLE_NAME,
        "tenant_id": first.id,
        "business_number": first.business_numbers[0],
        "tenants": [{"id": t.id, "business_numbers": t.business_numbers} for t in config.tenants],
        "twilio_auth_token": twilio_auth_token,
        "twilio_sms_webhook_url": base_url + TWILIO_SMS_PATH,
        "twilio_status_webhook_url": base_url + TWILIO_STATUS_PATH,
        "aws_sms_inbound_url": base_url + AWS_SMS_INBOUND_PATH,
        "outbox_url": base_url + OUTBOX_PATH,
        "outbound_queue_url": outbound_url,
        "outbound_dlq_url": outbound_dlq_url,
        "retry_queue_url": retry_url,
        "retry_dlq_url": retry_dlq_url,
        "api_base_url": base_url,
        "user_pool_id": pool.user_pool_id,
        "user_pool_client_id": pool.client_id,
        "users": users_for_state(pool),
    }
    state_dir = Path(os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline")
    state_dir.mkdir(parents=True, exist_ok=True)
    state_file = state_dir / "local.json"
    state_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    background = [
        threading.Thread(target=server.serve_forever, daemon=True),
        _worker(workers.poll_queue, outbound_url, "functions.handlers.sender", stop),
        _worker(workers.poll_queue, retry_url, "functions.handlers.retry_worker", stop),
        streams.consumer(
            AUDIT_TABLE_NAME,
            _handler("functions.handlers.audit_sealer"),
            stop,
            filter_pattern=AUDIT_SEALER_FILTER,
        ),
        threading.Thread(
            target=workers.run_every,
            args=(60, _handler("functions.handlers.sweeper"), stop),
            daemon=True,
        ),
    ]
    for thread in background:
        thread.start()
    print(f"Quietline is running at {base_url}  (state: {state_file}; Ctrl-C stops)", flush=True)
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        moto.stop()
        state_file.unlink(missing_ok=True)
        print("Quietline stopped.", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
