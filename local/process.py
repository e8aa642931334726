"""`python -m local.runtime` as a child process: for the tests and the load benchmark.

It runs on a free port with its state in `workdir`; `start()` returns its local.json once
the runtime has written it. The log goes to a file, not a pipe: a long run's log would
fill a pipe and stall the runtime; callers read it after `stop()` (e.g. to scan for PHI).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infra.config import REPO_ROOT


class RuntimeDidNotStart(RuntimeError):
    """The runtime exited or wrote no local.json in time (see its log)."""


class RuntimeProcess:
    def __init__(
        self,
        workdir: Path,
        *,
        env: Mapping[str, str | None] | None = None,
        inherit_environment: bool = True,
    ) -> None:
        """`env`: overrides of the inherited environment (None removes a variable).
        `inherit_environment=False` starts from a bare one (PATH, HOME, LANG), as a fresh
        shell's `make run` would: no AWS variables, nothing of the caller's."""
        self.workdir = workdir
        self._inherit = inherit_environment
        self.state_file = workdir / "local.json"
        self.log_path = workdir / "runtime.log"
        self._env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> dict[str, Any]:
        inherited = (
            dict(os.environ)
            if self._inherit
            else {"PATH": "/usr/bin:/bin", "HOME": str(self.workdir), "LANG": "C.UTF-8"}
        )
        env = {
            **inherited,
            "QUIETLINE_PORT": "0",
            "QUIETLINE_STATE_DIR": str(self.workdir),
            "PYTHONPATH": str(REPO_ROOT),
        }
        for name, value in self._env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local.runtime"],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.state_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeDidNotStart(f"the local runtime did not start (see {self.log_path})")
            time.sleep(0.1)
        state: dict[str, Any] = json.loads(self.state_file.read_text(encoding="utf-8"))
        return state

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """SIGTERM (or `sig`: SIGINT is Ctrl-C); both stop it cleanly, saving its data and
        removing local.json. Killed if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            # It hangs: its threads' stacks into its log first (local/runtime.py), then kill.
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(1)
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")
