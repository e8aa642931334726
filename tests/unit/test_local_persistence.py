"""Local mode's saved file (local/persistence.py): written whole and private, loaded only
when it matches this moto, set aside otherwise; snapshots taken with moto paused."""

from __future__ import annotations

import json
import stat
import threading
import time
from pathlib import Path

import pytest

from local import persistence

pytestmark = pytest.mark.unit


def test_a_saved_file_is_private_and_replaces_the_old_one_whole(tmp_path: Path) -> None:
    # Given an earlier save
    path = tmp_path / persistence.STATE_FILE
    persistence.write_atomically(path, b"old")

    # When a new one is written
    persistence.write_atomically(path, b"new")

    # Then only its owner can read it, it holds the new bytes, and no temp file is left
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == [persistence.STATE_FILE]


def _saved_by(tmp_path: Path, header: dict[str, object], payload: bytes) -> Path:
    path = tmp_path / persistence.STATE_FILE
    path.write_bytes(json.dumps(header).encode() + b"\n" + payload)
    return path


def test_a_file_from_another_moto_is_set_aside_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file saved under another moto version
    path = _saved_by(tmp_path, {**persistence.stamp(), "moto": "4.0.0"}, b"not loaded")

    # When local mode starts
    saved = persistence.load(path)

    # Then it starts fresh, says why in one line, and keeps the old file aside
    assert saved is None
    (line,) = capsys.readouterr().out.splitlines()
    assert "moto 4.0.0" in line and "starting fresh" in line
    (aside,) = tmp_path.iterdir()
    assert aside.name.startswith(persistence.STATE_FILE + ".") and aside.name.endswith(".set-aside")
    assert aside.read_bytes().endswith(b"not loaded")


def test_an_unreadable_file_is_set_aside_not_half_loaded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file whose header matches but whose body was cut short
    path = _saved_by(tmp_path, persistence.stamp(), b"\x80\x05truncated")

    # When local mode starts, then it starts fresh and says the file could not be read
    assert persistence.load(path) is None
    assert "could not be read" in capsys.readouterr().out
    assert not path.exists() and len(list(tmp_path.iterdir())) == 1


def test_no_saved_file_means_a_fresh_start(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / persistence.STATE_FILE) is None


def test_a_snapshot_waits_for_requests_in_flight_and_holds_new_ones() -> None:
    # Given one moto request in flight
    gate = persistence.MotoGate()
    events: list[str] = []
    in_flight = threading.Event()
    finish = threading.Event()

    def request(name: str, hold: threading.Event | None) -> None:
        with gate.request():
            if hold is not None:
                in_flight.set()
                hold.wait(5)
            events.append(name)

    first = threading.Thread(target=request, args=("first request", finish))
    first.start()
    in_flight.wait(5)

    def snapshot() -> None:
        with gate.paused():
            events.append("snapshot")
            time.sleep(0.1)  # a request arriving now must wait for this to end
            events.append("snapshot done")

    taker = threading.Thread(target=snapshot)
    taker.start()
    time.sleep(0.1)
    later = threading.Thread(target=request, args=("later request", None))
    later.start()
    time.sleep(0.1)

    # When the request in flight finishes
    finish.set()
    for thread in (first, taker, later):
        thread.join(5)

    # Then the snapshot came after it, alone, and the later request after the snapshot
    assert events == ["first request", "snapshot", "snapshot done", "later request"]


def test_a_request_waiting_outside_lets_a_snapshot_and_nested_requests_through() -> None:
    # Given a request (Cognito's InitiateAuth) whose trigger makes a moto request of its
    # own, while a snapshot is asked for in between
    gate = persistence.MotoGate()
    events: list[str] = []
    snapshot_asked = threading.Event()

    def snapshot() -> None:
        with gate.paused():
            events.append("snapshot")

    def nested_request() -> None:
        with gate.request():
            events.append("trigger's request")

    def outer_request() -> None:
        with gate.request():
            with gate.outside():  # the trigger runs outside the request's place
                taker = threading.Thread(target=snapshot)
                taker.start()
                snapshot_asked.set()
                time.sleep(0.1)
                inner = threading.Thread(target=nested_request)
                inner.start()
                inner.join(5)
                taker.join(5)
            events.append("outer request done")

    # When it runs
    outer = threading.Thread(target=outer_request)
    outer.start()
    outer.join(10)

    # Then nothing deadlocked: the snapshot, the trigger's request, then the outer request
    assert not outer.is_alive()
    assert events == ["snapshot", "trigger's request", "outer request done"]
