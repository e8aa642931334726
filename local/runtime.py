"""`make run`: moto for AWS, the handlers over HTTP, a demo practice, until Ctrl-C.

Environment: QUIETLINE_PORT (default 8000; 0 picks a free port), QUIETLINE_AWS_PORT
(moto; default 0 = a free port), QUIETLINE_STATE_DIR (default .quietline), and
QUIETLINE_CONFIG (default quietline.config.json).

What moto holds is kept in the state directory between runs (local/persistence.py):
saved every SAVE_INTERVAL_SECONDS and on a clean stop, restored on the next start. A
fresh start (`quietline local reset` removes the saved file) seeds demo conversations.
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from functions.container import Container, Ports
from functions.core.observability import redact
from functions.core.settings import Settings
from functions.dal.aws import AwsClients, AwsTarget
from functions.dal.schema import (
    AUDIT_SEALER_FILTER,
    NEW_INBOUND_MESSAGE_FILTER,
    NEW_MESSAGE_FILTER,
    OUTBOUND_QUEUE,
    PAGE_REQUEST_FILTER,
    RETRY_QUEUE,
    create_audit_table_kwargs,
)
from functions.dal.web_push import new_vapid_private_key_pem
from functions.handlers._entry import EntryPoint
from infra.config import REPO_ROOT, ConfigError, QuietlineConfig, load_config
from local import (
    live_socket,
    moto_cognito,
    moto_dynamodb,
    persistence,
    streams,
    workers,
)
from local.apigw import Route
from local.bootstrap import (
    bootstrap,
    enforce_kms_key_state,
    ensure_queue,
    ensure_staff_topic,
    ensure_table,
)
from local.clock import CLOCK_HANDLER, AdvancingClock, ClockDriver
from local.demo_seed import seed_demo_conversations, seed_demo_voice
from local.identity import (
    CognitoAuthorizer,
    LocalPool,
    ensure_pool,
    passkey_trigger,
    pool_from_saved,
    users_for_state,
)
from local.live_socket import LIVE_PATH, LocalSockets
from local.persistence import GatedMotoServer, MotoGate, Saved, StateSaver
from local.routes import (
    AWS_SMS_INBOUND_PATH,
    OUTBOX_HANDLER,
    OUTBOX_PATH,
    ROUTES,
    TWILIO_SMS_PATH,
    TWILIO_STATUS_PATH,
    VOICE_HANDLER,
)
from local.server import make_server, use_authorizer, use_handlers, use_upgrade
from local.sim_carrier import SimulatedCarrier
from local.sim_transcriber import local_transcriber
from local.sim_voice import SimulatedVoiceCarrier, VoiceDriver

HOST = "127.0.0.1"
TABLE_NAME = "quietline-local"
AUDIT_TABLE_NAME = "quietline-local-audit"
VOICEMAIL_BUCKET = "quietline-local-voicemail"
# Ctrl-C: how long the queue pollers and stream consumer get to finish what they hold
# before the final save (each waits at most about a second for new work).
WORKER_JOIN_SECONDS = 2.5
# How often the main thread looks for a Ctrl-C or SIGTERM while it serves (see main()).
SIGNAL_CHECK_SECONDS = 0.2
logger = logging.getLogger("quietline.local")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def local_aws(endpoint: str, region: str) -> AwsClients:
    """Clients for the moto server, whatever AWS profile or credentials the shell holds."""
    return AwsClients(
        AwsTarget(
            endpoint_url=endpoint,
            region=region,
            access_key_id="local",
            secret_access_key="local",  # noqa: S106 - moto accepts any credentials
        )
    )


def handler_table(
    routes: Iterable[Route],
    runtime: Container,
    carrier: SimulatedCarrier,
    voice_carrier: SimulatedVoiceCarrier | None = None,
) -> dict[str, Any]:
    """Each route's handler: Lambda entry points bound to this runtime's container."""
    table: dict[str, Any] = {OUTBOX_HANDLER: carrier.outbox_handler}
    if isinstance(runtime.ports.scheduler_clock, AdvancingClock):
        table[CLOCK_HANDLER] = ClockDriver(runtime, runtime.ports.scheduler_clock).handler
    if voice_carrier is not None:
        table[VOICE_HANDLER] = VoiceDriver(runtime, voice_carrier).handler
    for route in routes:
        if route.handler in table:
            continue
        module_name, _, attribute = route.handler.rpartition(".")
        found = getattr(importlib.import_module(module_name), attribute)
        table[route.handler] = found.bound(runtime) if isinstance(found, EntryPoint) else found
    return table


def bound_handler(dotted: str, runtime: Container) -> Any:
    entry: EntryPoint = importlib.import_module(dotted).handler
    return entry.bound(runtime)


class RedactingTextFormatter(logging.Formatter):
    """The local runtime's own log lines (and tracebacks) pass the same PHI mask as Lambda's."""

    def format(self, record: logging.LogRecord) -> str:
        return str(redact(super().format(record)))


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingTextFormatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    for noisy in ("werkzeug", "botocore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@dataclass
class LocalStack:
    """What `main` starts besides the HTTP server: moto, the queues, the pool, the services."""

    moto: GatedMotoServer
    endpoint: str
    runtime: Container
    carrier: SimulatedCarrier
    voice_carrier: SimulatedVoiceCarrier
    twilio_auth_token: str
    pool: LocalPool
    dead_letter_urls: dict[str, str]
    seeded: bool  # demo conversations sent (in this run or a saved one)

    def saved_app_state(self) -> dict[str, Any]:
        """What persistence keeps beside moto: all a restart needs that AWS cannot return."""
        return {
            "pool": asdict(self.pool),
            "twilio_auth_token": self.twilio_auth_token,
            "seeded": self.seeded,
            "vapid_private_key_pem": self.runtime.ports.vapid_private_key_pem,
        }


def start_stack(
    config: QuietlineConfig, base_url: str, aws_port: int, saved: Saved | None = None
) -> LocalStack:
    """moto (restored from `saved`, if any) with the CDK app's tables, queues, topic, pool
    and keys, ensured idempotently; the container on it."""
    moto_dynamodb.install()  # atomic under threads; bounded memory; streams as in AWS
    moto_cognito.install()  # a disabled user's refresh token is refused, as in Cognito
    if saved is not None:
        persistence.restore(saved.backends)
    app_state = saved.app if saved is not None else {}
    moto = GatedMotoServer(MotoGate(), HOST, aws_port)
    moto.start()
    endpoint = f"http://{HOST}:{aws_port}"
    clients = local_aws(endpoint, config.region)
    enforce_kms_key_state(clients)
    ensure_table(clients, AUDIT_TABLE_NAME, create_audit_table_kwargs)
    outbound_url, outbound_dlq_url = ensure_queue(clients, OUTBOUND_QUEUE)
    retry_url, retry_dlq_url = ensure_queue(clients, RETRY_QUEUE)
    saved_pool = pool_from_saved(app_state["pool"]) if "pool" in app_state else None
    pool = ensure_pool(clients.client("cognito-idp"), config, saved_pool)
    settings = Settings(
        stage="local",
        table_name=TABLE_NAME,
        carrier="simulated",
        outbound_queue_url=outbound_url,
        retry_queue_url=retry_url,
        staff_topic_arn=ensure_staff_topic(clients),
        user_pool_id=pool.user_pool_id,
        user_pool_client_id=pool.client_id,  # the session routes renew tokens with it
        audit_table_name=AUDIT_TABLE_NAME,
        audit_retention_days=config.audit_retention_days,
        secure_link_base_url=base_url,
        # Twilio signs the URL it calls; locally that is this server.
        public_base_url=base_url,
        voicemail_bucket=VOICEMAIL_BUCKET,  # created by bootstrap(), as infra deploys it
        # Live updates on this server's own WebSocket (local/live_socket.py), as a path: the
        # page opens it on its own origin (127.0.0.1 or localhost, which passkeys need).
        live_socket_url=LIVE_PATH,
        live_management_url=base_url + LIVE_PATH,
    )
    token = str(app_state.get("twilio_auth_token") or secrets.token_hex(16))
    carrier = SimulatedCarrier()
    voice_carrier = SimulatedVoiceCarrier()
    runtime = Container(
        settings,
        clients=clients,
        ports=Ports(
            carrier=carrier,
            twilio_auth_token=token,
            voice_carrier=voice_carrier,
            transcriber=local_transcriber(clients),  # moto's Transcribe (sim_transcriber.py)
            live_publisher=LocalSockets(),
            # Web Push signs with a key of this machine's local state (kept across runs).
            vapid_private_key_pem=str(
                app_state.get("vapid_private_key_pem") or new_vapid_private_key_pem()
            ),
            scheduler_clock=AdvancingClock(),
        ),
    )
    carrier.on_sent = workers.delivery_reports(runtime)
    # The pool's custom-auth triggers (passkey sign-in): the deployed handler, run here.
    moto_cognito.use_custom_auth(pool.user_pool_id, passkey_trigger(runtime, moto.gate))
    bootstrap(config, runtime)
    dead_letters = {"outbound_dlq_url": outbound_dlq_url, "retry_dlq_url": retry_dlq_url}
    seeded = bool(app_state.get("seeded"))
    return LocalStack(
        moto, endpoint, runtime, carrier, voice_carrier, token, pool, dead_letters, seeded
    )


def state_for(config: QuietlineConfig, stack: LocalStack, base_url: str) -> dict[str, Any]:
    """`.quietline/local.json`: everything a client of local mode needs (README table)."""
    settings = stack.runtime.settings
    first = config.tenants[0]
    return {
        "base_url": base_url,
        "aws_endpoint_url": stack.endpoint,
        "region": config.region,
        "table_name": settings.table_name,
        "audit_table_name": settings.audit_table_name,
        "tenant_id": first.id,
        "business_number": first.business_numbers[0],
        "tenants": [{"id": t.id, "business_numbers": t.business_numbers} for t in config.tenants],
        "twilio_auth_token": stack.twilio_auth_token,
        "twilio_sms_webhook_url": base_url + TWILIO_SMS_PATH,
        "twilio_status_webhook_url": base_url + TWILIO_STATUS_PATH,
        "aws_sms_inbound_url": base_url + AWS_SMS_INBOUND_PATH,
        "outbox_url": base_url + OUTBOX_PATH,
        "outbound_queue_url": settings.outbound_queue_url,
        "retry_queue_url": settings.retry_queue_url,
        **stack.dead_letter_urls,
        "api_base_url": base_url,
        "user_pool_id": stack.pool.user_pool_id,
        "user_pool_client_id": stack.pool.client_id,
        "users": users_for_state(stack.pool),
    }


def background_work(stack: LocalStack, stop: threading.Event) -> list[threading.Thread]:
    """What AWS runs around the handlers: the SQS and stream event sources, the sweeper."""
    runtime = stack.runtime
    sqs = runtime.clients.client("sqs")
    consumers = (
        (runtime.settings.need("outbound_queue_url"), "functions.handlers.sender"),
        (runtime.settings.need("retry_queue_url"), "functions.handlers.retry_worker"),
    )
    threads = [
        threading.Thread(
            target=workers.poll_queue,
            args=(sqs, url, bound_handler(module, runtime), stop),
            daemon=True,
        )
        for url, module in consumers
    ]
    # The DynamoDB Streams event sources, with their event source mappings' filters: the
    # audit sealer, and the staff notifier on the message table. (The notifier once
    # stalled here: moto's rollback of a cancelled transaction stranded stream iterators
    # on a table copy; local/moto_dynamodb.py's journaled transactions keep them on it.)
    stream_sources = (
        ("audit_table_name", "functions.handlers.audit_sealer", AUDIT_SEALER_FILTER),
        ("table_name", "functions.handlers.staff_notifier", NEW_INBOUND_MESSAGE_FILTER),
        ("table_name", "functions.handlers.care_pager", PAGE_REQUEST_FILTER),
        ("table_name", "functions.handlers.live_notifier", NEW_MESSAGE_FILTER),
    )
    threads += [
        streams.consumer(
            runtime.clients,
            runtime.settings.need(table),
            bound_handler(module, runtime),
            stop,
            filter_pattern=pattern,
        )
        for table, module, pattern in stream_sources
    ]
    sweeper = bound_handler("functions.handlers.sweeper", runtime)
    threads.append(
        threading.Thread(target=workers.run_every, args=(60, sweeper, stop), daemon=True)
    )
    # The voice functions' schedule, for voicemail transcription jobs: every 2 s, not 5
    # minutes, so a transcript shows while you look.
    transcripts = lambda _event, _context: runtime.transcription_service().sweep()  # noqa: E731
    threads.append(
        threading.Thread(target=workers.run_every, args=(2, transcripts, stop), daemon=True)
    )
    # Scheduled messages and reminders: the deployed rule's minute, a little sooner here.
    due = bound_handler("functions.handlers.schedule_sweep", runtime)
    threads.append(threading.Thread(target=workers.run_every, args=(15, due, stop), daemon=True))
    return threads


def state_directory() -> Path:
    return Path(os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline")


def _demo_lock_requirement_off(stack: LocalStack, config: QuietlineConfig) -> None:
    """The demo practices open straight to the inbox: a deployed practice starts with the
    "PIN or passkey required" setting on (docs/access.md); here an admin turns it on with
    PUT /lock-settings, and the browser test of the requirement does."""
    from functions.dal.app_lock import AppLockStore  # noqa: PLC0415 - local mode only

    store = AppLockStore(stack.runtime.store().table)
    for tenant in config.tenants:
        store.set_require_unlock_method(tenant.id, False)


def seed_once(stack: LocalStack, config: QuietlineConfig, base_url: str) -> None:
    """Demo conversations in the first tenant, on a fresh start only."""
    if stack.seeded:
        return
    stack.seeded = True  # never twice, even if this one fails part-way
    tenant = config.tenants[0]
    try:
        count = seed_demo_conversations(
            base_url,
            stack.runtime.clients.client("cognito-idp"),
            stack.pool,
            tenant.id,
            tenant.business_numbers[0],
        )
    except Exception as error:  # the demo runs without them: say so, do not stop
        logger.warning("demo conversations not seeded (%s)", error)
        return
    logger.info("seeded %d demo texts", count)
    try:
        seed_demo_voice(
            base_url,
            stack.runtime.clients.client("cognito-idp"),
            stack.pool,
            tenant.id,
            tenant.business_numbers[0],
        )
    except Exception as error:  # texts work without voice: say so, do not stop
        logger.warning("demo voice settings and voicemail not seeded (%s)", error)
        return
    logger.info("seeded voice settings and a demo voicemail")


def stop_all(
    stop: threading.Event,
    server: Any,
    workers_started: list[threading.Thread],
    stack: LocalStack,
    saver: StateSaver,
) -> None:
    """Ctrl-C: no new requests, workers given a moment, one last save, moto down."""
    stop.set()
    server.shutdown()  # returns within its poll interval (0.5 s)
    deadline = time.monotonic() + WORKER_JOIN_SECONDS
    for thread in workers_started:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    try:
        saver.save()  # waits only for moto requests in flight (the gate)
    except Exception:
        logger.exception("the final save of local data failed (the last periodic one stands)")
    server.server_close()
    stack.moto.stop()


def main() -> int:
    _configure_logging()
    # SIGUSR1 prints every thread's stack (file and line only, no variables, so no PHI):
    # what `RuntimeProcess.stop` asks for before it kills a runtime that will not stop.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
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
    base_url = f"http://{HOST}:{server.server_address[1]}"
    state_dir = state_directory()
    state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_file = state_dir / persistence.STATE_FILE
    state_file = state_dir / "local.json"
    stop = threading.Event()
    try:
        saved = persistence.load(data_file)
        print(
            f"Local data is kept in {state_dir} "
            + ("(restored from the last run)" if saved else "(fresh start)")
            + "; `quietline local reset` starts fresh.",
            flush=True,
        )
        aws_port = int(os.environ.get("QUIETLINE_AWS_PORT", "0")) or _free_port()
        stack = start_stack(config, base_url, aws_port, saved)
    except KeyboardInterrupt:  # Ctrl-C while starting: nothing is saved yet
        print("Quietline stopped before it started.", flush=True)
        return 130
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    use_authorizer(server, CognitoAuthorizer(stack.endpoint, config.region, stack.pool))
    use_handlers(server, handler_table(ROUTES, stack.runtime, stack.carrier, stack.voice_carrier))
    use_upgrade(server, LIVE_PATH, live_socket.server_for(stack.runtime))
    saver = StateSaver(data_file, stack.moto.gate, stack.saved_app_state)

    if not stack.seeded:  # a fresh start: before the first request can sign in
        _demo_lock_requirement_off(stack, config)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    background = background_work(stack, stop)
    for thread in (serving, *background):
        thread.start()
    seed_once(stack, config, base_url)
    saver.save()
    periodic = threading.Thread(
        target=saver.run_every, args=(persistence.SAVE_INTERVAL_SECONDS, stop), daemon=True
    )
    periodic.start()
    state = state_for(config, stack, base_url)
    # Whole or absent for a reader polling for it, and 0600: it lists demo credentials.
    persistence.write_atomically(state_file, (json.dumps(state, indent=2) + "\n").encode())
    print(f"Quietline is running at {base_url}  (state: {state_file}; Ctrl-C stops)", flush=True)
    try:
        # A bounded wait, again and again: Python runs a signal's handler only when the main
        # thread executes bytecode, and the kernel may deliver SIGINT/SIGTERM to any of the
        # runtime's threads, which leaves an unbounded wait blocked (seen as a Ctrl-C that
        # did nothing; stacks from faulthandler showed the main thread still here).
        while not stop.wait(SIGNAL_CHECK_SECONDS):
            pass
    finally:
        stop_all(stop, server, [*background, periodic], stack, saver)
        state_file.unlink(missing_ok=True)
        print(f"Quietline stopped; local data saved in {data_file}.", flush=True)
    return 0


def exit_now(code: int) -> None:
    """Leave without the interpreter's teardown: freeing moto's and botocore's objects
    takes about two seconds after everything that matters is saved, and Ctrl-C should
    be quick. Output and log handlers are flushed first."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
