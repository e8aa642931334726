"""`quietline local reset`: forget local mode's saved data, so the next `make run` starts fresh."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from infra.config import REPO_ROOT


class LocalModeRunningError(Exception):
    """Local mode answers: resetting under it would be undone by its next save."""


def state_directory() -> Path:
    return Path(os.environ.get("QUIETLINE_STATE_DIR") or REPO_ROOT / ".quietline")


def _running(state_file: Path) -> bool:
    """local.json names a server that still answers (a crash can leave a stale one)."""
    try:
        base_url = json.loads(state_file.read_text(encoding="utf-8"))["base_url"]
        with urllib.request.urlopen(f"{base_url}/health", timeout=2):  # noqa: S310 - loopback
            return True
    except (OSError, ValueError, KeyError, urllib.error.URLError):
        return False


def reset(state_dir: Path) -> list[Path]:
    """Remove the saved data (and a stale local.json); returns what was removed."""
    from local.persistence import STATE_FILE  # noqa: PLC0415 - moto loads only for this command

    state_file = state_dir / "local.json"
    if state_file.exists() and _running(state_file):
        raise LocalModeRunningError(
            "local mode is running; stop it (Ctrl-C) before `quietline local reset`"
        )
    removed = []
    for path in (state_dir / STATE_FILE, state_dir / f"{STATE_FILE}.tmp", state_file):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def register(
    main: click.Group, one_line_errors: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> None:
    @main.group("local")
    def local_group() -> None:
        """Local mode (`make run`) itself."""

    @local_group.command("reset")
    @one_line_errors
    def local_reset() -> None:
        """Delete local mode's saved data: the next `make run` starts fresh, with new demo
        credentials, keys and conversations. Copies set aside after a version change stay."""
        state_dir = state_directory()
        removed = reset(state_dir)
        if removed:
            click.echo(f"removed local mode's saved data from {state_dir}; `make run` starts fresh")
        else:
            click.echo(f"nothing saved in {state_dir}; `make run` starts fresh")
