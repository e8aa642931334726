"""Files the CLI writes appear whole or not at all: a failed command leaves nothing behind."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

STDOUT = "-"


@contextlib.contextmanager
def atomic_output(path: str) -> Iterator[IO[str]]:
    """Write to a temporary file beside `path`, renamed over it only on success.

    `-` is standard output. The file is created owner-only: exports hold PHI (encrypted)
    and audit exports name staff.
    """
    if path == STDOUT:
        yield sys.stdout
        return
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            yield stream
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
