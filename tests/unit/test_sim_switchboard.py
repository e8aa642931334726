"""Local mode's simulated voice switchboard (local/sim_switchboard.py): which simulated
phones ring, in what order, and how a call ends, on a clock the tests move by hand."""

from __future__ import annotations

from typing import Any

import pytest

from local.sim_switchboard import CLIENT_RING_SECONDS, Hangup, Switchboard

pytestmark = pytest.mark.unit

CALL = "tenant-1/conv-1/01CALL"
CLIENT = "+12065550121"  # fictional (555-01xx)
BUSINESS = "+12065550100"
CELL_A = "+12065550142"
CELL_B = "+12065550143"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _board() -> tuple[Switchboard, Clock]:
    clock = Clock()
    return Switchboard(clock), clock


def _ring(board: Switchboard, strategy: str, ring_seconds: int = 20) -> None:
    board.ring_inbound(
        CALL,
        client=CLIENT,
        caller_id=BUSINESS,
        targets=[("user-a", CELL_A), ("user-b", CELL_B)],
        strategy=strategy,
        ring_seconds=ring_seconds,
        prompt="Call for Harbor Counseling. Press 1 to accept.",
    )


def _ringing(board: Switchboard) -> list[str]:
    call: dict[str, Any] = board.snapshot()[0]
    return [leg["to"] for leg in call["legs"] if leg["state"] == "ringing"]


def test_a_sequential_call_rings_one_cell_then_the_next_after_the_ring_time() -> None:
    # Given a call routed to two cells in order, 20 s each
    board, clock = _board()
    _ring(board, "sequential")
    # Then only the first cell rings at first
    assert _ringing(board) == [CELL_A]
    # When its 20 s pass, the second rings instead, and the call is not over yet
    clock.now += 20
    assert _ringing(board) == [CELL_B]
    assert board.expired() == []


def test_a_decline_moves_a_sequential_ring_to_the_next_cell_at_once() -> None:
    board, clock = _board()
    _ring(board, "sequential")
    clock.now += 3
    # When the first clinician declines
    everyone_declined = board.screened(CALL, "user-a", connected=False)
    # Then the second cell rings now, for its full ring time
    assert not everyone_declined
    assert _ringing(board) == [CELL_B]
    clock.now += 19
    assert _ringing(board) == [CELL_B]


def test_when_every_cell_declines_the_board_says_so() -> None:
    board, _ = _board()
    _ring(board, "simultaneous")
    assert _ringing(board) == [CELL_A, CELL_B]
    assert not board.screened(CALL, "user-a", connected=False)
    assert board.screened(CALL, "user-b", connected=False)


def test_an_unanswered_call_is_handed_back_once_as_no_answer_when_the_ring_time_runs_out() -> None:
    board, clock = _board()
    _ring(board, "simultaneous")
    clock.now += 19
    assert board.expired() == []
    # When the ring time is over with nobody accepting
    clock.now += 1
    # Then it is due as unanswered, once
    assert board.expired() == [(CALL, "no_answer")]
    assert board.expired() == []


def test_after_a_decline_and_a_time_out_the_call_is_due_as_declined() -> None:
    board, clock = _board()
    _ring(board, "simultaneous")
    board.screened(CALL, "user-a", connected=False)
    clock.now += 20
    assert board.expired() == [(CALL, "declined")]


def test_an_accepted_inbound_call_stops_the_other_cells_and_hangs_up_with_its_talk_time() -> None:
    # Given both cells ringing
    board, clock = _board()
    _ring(board, "simultaneous")
    # When the second clinician accepts and they talk for 7 s
    board.screened(CALL, "user-b", connected=True)
    clock.now += 7.4
    call = board.snapshot()[0]
    assert call["state"] == "connected"
    assert [leg["state"] for leg in call["legs"]] == ["ended", "connected"]
    assert call["connected_seconds"] == 7
    # Then a hang-up reports it answered by them, 7 s long; nothing times out meanwhile
    clock.now += 60
    assert board.expired() == []
    assert board.hangup(CALL) == Hangup("answered", "user-b", 67)


def test_a_caller_who_hangs_up_while_it_rings_is_reported_as_such() -> None:
    board, _ = _board()
    _ring(board, "sequential")
    assert board.hangup(CALL) == Hangup("caller_hung_up", None, 0)


def test_the_voicemail_step_shows_the_greeting_then_ends_when_a_message_is_left() -> None:
    board, _ = _board()
    _ring(board, "sequential")
    # When the service answers the missed call with its greeting
    board.finished(
        CALL, outcome="no_answer", voicemail=True, greeting="You reached Harbor.", max_seconds=120
    )
    call = board.snapshot()[0]
    assert (call["state"], call["greeting"]) == ("voicemail", "You reached Harbor.")
    assert {leg["state"] for leg in call["legs"]} == {"missed"}
    assert board.hangup(CALL) is None  # nothing rings to hang up
    # When the caller leaves a message
    board.voicemail_left(CALL)
    assert board.snapshot()[0]["state"] == "ended"


def test_click_to_call_rings_the_client_only_once_the_clinician_accepts() -> None:
    # Given a click-to-call: the clinician's cell rings first
    board, clock = _board()
    board.ring_outbound(
        CALL,
        caller_id=BUSINESS,
        clinician_user_id="user-a",
        clinician_number=CELL_A,
        client=CLIENT,
        prompt="Call to a client of Harbor Counseling. Press 1 to connect.",
        ring_seconds=30,
    )
    assert _ringing(board) == [CELL_A]
    assert not board.client_answered(CALL)  # the client's phone has not rung yet
    # When the clinician accepts, the client's phone rings under the business number
    board.screened(CALL, "user-a", connected=True)
    assert _ringing(board) == [CLIENT]
    assert board.snapshot()[0]["caller_id"] == BUSINESS
    # When the client answers and they talk 12 s, it hangs up answered by the clinician
    clock.now += 2
    assert board.client_answered(CALL)
    clock.now += 12
    assert board.hangup(CALL) == Hangup("answered", "user-a", 12)


def test_click_to_call_the_client_never_answers_is_due_as_no_answer() -> None:
    board, clock = _board()
    board.ring_outbound(
        CALL,
        caller_id=BUSINESS,
        clinician_user_id="user-a",
        clinician_number=CELL_A,
        client=CLIENT,
        prompt="",
        ring_seconds=30,
    )
    board.screened(CALL, "user-a", connected=True)
    clock.now += CLIENT_RING_SECONDS - 1
    assert board.expired() == []
    clock.now += 1
    assert board.expired() == [(CALL, "no_answer")]


def test_an_ended_call_stays_listed_for_a_minute_then_goes() -> None:
    board, clock = _board()
    _ring(board, "sequential")
    board.finished(CALL, outcome="caller_hung_up", voicemail=False, greeting="", max_seconds=0)
    clock.now += 60
    assert [c["state"] for c in board.snapshot()] == ["ended"]
    clock.now += 1
    assert board.snapshot() == []
