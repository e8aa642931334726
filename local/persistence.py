"""Local mode's data kept across restarts: moto's backends saved to `.quietline/`.

Why pickle moto's backends rather than export and re-import through the AWS APIs: KMS
never exports key material and Cognito never returns a password or a TOTP secret, so an
API-level export could not bring back readable messages or working demo sign-ins. The
backends are plain Python objects; only two kinds of member refuse to pickle (a
`cryptography` private key, kept as PKCS#8 PEM; a lock, recreated empty), so a pickler
that handles those saves them whole, references between services included.

The cost is coupling to moto's internals: the file is stamped with the moto and Python
versions and a schema number, and a file from another version is set aside, never
half-loaded. A snapshot is taken with every moto request paused (`MotoGate`), so it is
one consistent moment across services; writing it is atomic (temp file, fsync, rename),
mode 0600, since it holds local key material beside the ciphertext it protects.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import moto
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from moto.backends import get_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

logger = logging.getLogger("quietline.local")

STATE_FILE = "aws-state.pickle"
SCHEMA = 1  # bump when what `app` holds changes shape
# The services local mode uses (runtime.start_stack); each one's backends are saved whole.
SERVICES = ("dynamodb", "dynamodbstreams", "kms", "cognito-idp", "sqs", "sns", "s3")
# Issue #13: a crash loses at most a minute.
SAVE_INTERVAL_SECONDS = 30.0
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def stamp() -> dict[str, Any]:
    """What a saved file must match to be loaded."""
    return {
        "schema": SCHEMA,
        "moto": moto.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
    }


# --- a consistent moment: every moto request paused ------------------------------------
class MotoGate:
    """Many requests at once, or one snapshot alone (a writer-preferring RW lock)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._active = 0
        self._paused = False

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._paused)
            self._active += 1
        try:
            yield
        finally:
            with self._condition:
                self._active -= 1
                self._condition.notify_all()

    @contextmanager
    def outside(self) -> Iterator[None]:
        """Within a request: give up its place while it waits on work that makes moto
        requests of its own (Cognito's triggers, local/moto_cognito.py), then take one
        again. Held, a snapshot pending meanwhile would wait for this request while the
        trigger's requests waited for the snapshot: a deadlock."""
        with self._condition:
            self._active -= 1
            self._condition.notify_all()
        try:
            yield
        finally:
            with self._condition:
                self._condition.wait_for(lambda: not self._paused)
                self._active += 1

    @contextmanager
    def paused(self) -> Iterator[None]:
        with self._condition:
            self._condition.wait_for(lambda: not self._paused)
            self._paused = True  # new requests wait from here on
            self._condition.wait_for(lambda: self._active == 0)
        try:
            yield
        finally:
            with self._condition:
                self._paused = False
                self._condition.notify_all()


class GatedMotoServer(ThreadedMotoServer):
    """moto's threaded server with every request passing `gate` (moto offers no hook, so
    this repeats its `_server_entry` with the app wrapped)."""

    def __init__(self, gate: MotoGate, ip_address: str, port: int) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.gate = gate

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        gate = self.gate

        def gated(environ: dict[str, Any], start_response: Any) -> Any:
            with gate.request():
                # Drained inside the gate: no request is half-done while a snapshot is taken.
                response = app(environ, start_response)
                try:
                    return list(response)
                finally:
                    if hasattr(response, "close"):
                        response.close()

        self._server = make_server(
            self._ip_address, self._port, gated, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


# --- pickling moto ------------------------------------------------------------------------
def _private_key_from_pem(pem: bytes) -> PrivateKeyTypes:
    return serialization.load_pem_private_key(pem, password=None)


class _MotoPickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        # KMS's asymmetric key material and Cognito's signing key (joserfc wraps one).
        if isinstance(
            obj, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)
        ):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _private_key_from_pem, (pem,)
        if isinstance(obj, _LOCK_TYPES):
            return type(obj), ()  # a fresh, unheld lock: nobody holds one across a restart
        return NotImplemented


def capture(services: Iterable[str] = SERVICES) -> dict[str, dict[str, dict[str, Any]]]:
    """service -> account -> region -> backend (call with moto paused)."""
    return {
        service: {account: dict(regions) for account, regions in get_backend(service).items()}  # type: ignore[call-overload]
        for service in services
    }


def restore(backends: dict[str, dict[str, dict[str, Any]]]) -> None:
    """Put saved backends in place (before the moto server answers anyone)."""
    for service, accounts in backends.items():
        backend_dict = get_backend(service)  # type: ignore[call-overload]
        for account, regions in accounts.items():
            for region, backend in regions.items():
                backend_dict[account][region] = backend


# --- the file -------------------------------------------------------------------------------
@dataclass
class Saved:
    """What a previous run left: moto's backends and the runtime's own `app` values."""

    backends: dict[str, dict[str, dict[str, Any]]]
    app: dict[str, Any] = field(default_factory=dict)


def _set_aside(path: Path, why: str) -> Path:
    aside = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.set-aside")
    os.replace(path, aside)
    print(f"quietline: {why}; starting fresh (the old file is kept at {aside})", flush=True)
    return aside


def load(path: Path) -> Saved | None:
    """The saved state, or None for a fresh start (a mismatched or unreadable file is
    moved aside with one line saying so)."""
    if not path.exists():
        return None
    try:
        with path.open("rb") as file:
            header = json.loads(file.readline())
            expected = stamp()
            if {k: header.get(k) for k in expected} != expected:
                found = f"moto {header.get('moto')}, schema {header.get('schema')}"
                _set_aside(path, f"saved local data is from {found}, not {expected['moto']}")
                return None
            payload = pickle.load(file)  # noqa: S301 - our own 0600 file in the state directory
        return Saved(payload["backends"], payload.get("app", {}))
    except Exception as error:  # a truncated or foreign file: never half-load it
        _set_aside(path, f"saved local data could not be read ({type(error).__name__})")
        return None


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file (0600) beside `path`, fsync, rename: a crash leaves the old or the new file."""
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older temp file may have had other bits
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    os.replace(temp, path)


class StateSaver:
    """Saves moto (paused through `gate`) plus `app()` to `path`; one save at a time."""

    def __init__(self, path: Path, gate: MotoGate, app: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._gate = gate
        self._app = app
        self._lock = threading.Lock()

    def save(self) -> float:
        """Returns the seconds moto was paused."""
        with self._lock:
            buffer = io.BytesIO()
            buffer.write(json.dumps({**stamp(), "saved_at": time.time()}).encode() + b"\n")
            app = self._app()
            started = time.monotonic()
            with self._gate.paused():
                _MotoPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
                    {"backends": capture(), "app": app}
                )
            paused = time.monotonic() - started
            write_atomically(self.path, buffer.getvalue())
            return paused

    def run_every(self, seconds: float, stop: threading.Event) -> None:
        """The periodic save, until `stop` (the final save is the caller's)."""
        while not stop.wait(seconds):
            try:
                self.save()
            except Exception:
                logger.exception("saving local data failed (the next save retries)")
