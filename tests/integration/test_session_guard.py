"""Automatic logoff and sign-out-everywhere: SessionGuard over the real session table (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.core.errors import AppLockedError, NotFoundError, SessionExpiredError
from functions.dal.schema import PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE, USER_POOL
from functions.dal.sessions import SessionStore
from functions.logic.access import Principal, Role, SessionGuard
from tests.integration.conftest import FixedClock

pytestmark = pytest.mark.integration

# A moment 0.7 s into a second: sign-outs rarely fall on a whole second.
START = datetime(2026, 12, 1, 15, 0, 0, 700_000, tzinfo=UTC)
SIGNED_IN_AT = int(START.timestamp())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def guard(table: Any, clock: FixedClock) -> SessionGuard:
    return SessionGuard(SessionStore(table), clock, idle=timedelta(minutes=15))


def _signed_in(session_id: str = "origin-1", *, at: int = SIGNED_IN_AT) -> Principal:
    return Principal("user-1", "harbor", Role.CLINICIAN, session_id, at)


def _alive(guard: SessionGuard, principal: Principal) -> bool:
    try:
        guard.touch(principal)
    except SessionExpiredError:
        return False
    return True


# --- automatic logoff -------------------------------------------------------------------------
def test_a_session_lives_exactly_the_idle_limit_after_its_last_request(
    guard: SessionGuard, clock: FixedClock
) -> None:
    me = _signed_in()
    assert _alive(guard, me)
    clock.advance(minutes=15)
    assert _alive(guard, me)  # activity at the limit still counts, and restarts it
    clock.advance(minutes=15, milliseconds=1)
    assert not _alive(guard, me)


def test_an_idled_out_session_stays_dead(guard: SessionGuard, clock: FixedClock) -> None:
    me = _signed_in()
    guard.touch(me)
    clock.advance(minutes=16)
    assert not _alive(guard, me)
    clock.advance(seconds=1)  # the refused request must not have revived it
    assert not _alive(guard, me)


def test_a_new_sign_in_is_a_fresh_session_though_an_older_one_idled_out(
    guard: SessionGuard, clock: FixedClock
) -> None:
    old = _signed_in("origin-1")
    guard.touch(old)
    clock.advance(minutes=16)
    again = _signed_in("origin-2", at=int(clock.now().timestamp()))
    assert _alive(guard, again)
    assert not _alive(guard, old)


def test_the_session_row_outlives_every_refresh_token_that_could_name_it(
    guard: SessionGuard, clock: FixedClock, table: Any
) -> None:
    # Were the row to expire (DynamoDB TTL) while a refresh token could still mint ID tokens
    # for its session, those tokens would find no row and start the idled-out session afresh.
    guard.touch(_signed_in())
    row = table.get_item(Key={PARTITION_KEY: "SESSION#harbor#user-1", SORT_KEY: "S#origin-1"})
    expires_at = int(row["Item"][TTL_ATTRIBUTE])
    refresh_tokens_end = START + timedelta(hours=USER_POOL.refresh_token_hours)
    assert expires_at >= refresh_tokens_end.timestamp()


# --- sign out everywhere ----------------------------------------------------------------------
def test_a_token_signed_in_a_second_before_sign_out_everywhere_is_refused(
    guard: SessionGuard,
) -> None:
    # Given a token signed in the second before, never used yet
    # When the user is signed out everywhere
    guard.sign_out_everywhere("harbor", "user-1")

    # Then it is refused
    assert not _alive(guard, _signed_in("earlier", at=SIGNED_IN_AT - 1))


def test_a_session_in_use_at_sign_out_everywhere_is_refused_though_signed_in_that_second(
    guard: SessionGuard, clock: FixedClock
) -> None:
    # Given a session signed in and used in the very second the sign-out comes
    me = _signed_in("same-second", at=SIGNED_IN_AT)
    assert _alive(guard, me)
    clock.advance(milliseconds=100)

    # When the user is signed out everywhere
    guard.sign_out_everywhere("harbor", "user-1")

    # Then that session is dead, whatever its sign-in second
    assert not _alive(guard, me)


def test_a_sign_in_right_after_sign_out_everywhere_is_accepted(
    guard: SessionGuard, clock: FixedClock
) -> None:
    # Given a sign-out 0.7 s into a second
    guard.sign_out_everywhere("harbor", "user-1")

    # When the user signs in again 0.2 s later (its token says the same whole second)
    clock.advance(milliseconds=200)
    fresh = _signed_in("fresh", at=int(clock.now().timestamp()))

    # Then the new session works, and keeps working
    assert _alive(guard, fresh)
    clock.advance(minutes=1)
    assert _alive(guard, fresh)


def test_a_sign_in_in_the_second_after_sign_out_everywhere_is_accepted(
    guard: SessionGuard,
) -> None:
    guard.sign_out_everywhere("harbor", "user-1")

    assert _alive(guard, _signed_in("after", at=SIGNED_IN_AT + 1))


def test_a_second_sign_out_everywhere_ends_the_sign_in_made_after_the_first(
    guard: SessionGuard, clock: FixedClock
) -> None:
    guard.sign_out_everywhere("harbor", "user-1")
    clock.advance(milliseconds=200)
    fresh = _signed_in("fresh", at=int(clock.now().timestamp()))
    assert _alive(guard, fresh)

    clock.advance(seconds=30)
    guard.sign_out_everywhere("harbor", "user-1")

    assert not _alive(guard, fresh)


def test_sign_out_everywhere_ends_a_live_session_at_once(
    guard: SessionGuard, clock: FixedClock
) -> None:
    me = _signed_in()
    guard.touch(me)
    clock.advance(seconds=2)
    guard.sign_out_everywhere("harbor", "user-1")

    assert not _alive(guard, me)


def test_sign_out_everywhere_is_per_user(guard: SessionGuard) -> None:
    colleague = Principal("user-2", "harbor", Role.CLINICIAN, "origin-9", SIGNED_IN_AT)
    guard.sign_out_everywhere("harbor", "user-1")

    assert _alive(guard, colleague)


# --- a request under the guard ------------------------------------------------------------------
def _idled_out(guard: SessionGuard, clock: FixedClock) -> Principal:
    me = _signed_in()
    guard.touch(me)
    clock.advance(minutes=16)
    return me


def test_a_request_of_a_dead_session_never_runs(guard: SessionGuard, clock: FixedClock) -> None:
    me = _idled_out(guard, clock)
    writes: list[str] = []

    with pytest.raises(SessionExpiredError), guard.session_for(me):
        writes.append("changed")

    assert writes == []


def test_an_overlapped_read_of_a_dead_session_is_refused_when_it_confirms(
    guard: SessionGuard, clock: FixedClock
) -> None:
    me = _idled_out(guard, clock)
    decrypted: list[str] = []

    with pytest.raises(SessionExpiredError), guard.session_for(me, overlap=True) as acting:
        acting.settle_session(None)  # what a service does before it decrypts anything
        decrypted.append("body")

    assert decrypted == []


def test_an_overlapped_read_of_a_dead_session_is_refused_even_if_it_never_confirms(
    guard: SessionGuard, clock: FixedClock
) -> None:
    me = _idled_out(guard, clock)

    with pytest.raises(SessionExpiredError), guard.session_for(me, overlap=True):
        pass


def test_a_dead_session_outranks_the_error_its_request_raised(
    guard: SessionGuard, clock: FixedClock
) -> None:
    me = _idled_out(guard, clock)

    with pytest.raises(SessionExpiredError), guard.session_for(me, overlap=True):
        raise NotFoundError("no such conversation")


def test_a_live_sessions_request_runs_and_its_own_error_comes_through(
    guard: SessionGuard,
) -> None:
    me = _signed_in()
    with guard.session_for(me, overlap=True) as acting:
        acting.settle_session(None)  # no read wave here: the touch is sent on its own
        assert (acting.user_id, acting.tenant_id, acting.session_id) == (
            me.user_id,
            me.tenant_id,
            me.session_id,
        )
    with pytest.raises(NotFoundError), guard.session_for(me, overlap=True):
        raise NotFoundError("no such conversation")
    with guard.session_for(me) as acting:
        assert acting is me


def test_a_dead_sessions_refusal_says_the_session_ended(
    guard: SessionGuard, clock: FixedClock
) -> None:
    # The staff API's 401 says "sign in again" rather than "unauthorized" by this wording
    # (functions/handlers/api.py): the overlapped path must word it the same.
    me = _idled_out(guard, clock)
    with pytest.raises(SessionExpiredError, match="session ended"):
        guard.touch(me)
    with (
        pytest.raises(SessionExpiredError, match="session ended"),
        guard.session_for(me, overlap=True),
    ):
        pass


# --- the app lock, kept on the same session row ----------------------------------------------
def test_a_locked_session_is_refused_every_request_but_those_that_pass_the_lock(
    guard: SessionGuard,
) -> None:
    # Given a live session whose page has locked
    me = _signed_in()
    guard.touch(me)
    guard.lock(me)
    ran: list[str] = []
    # When a PHI route's request comes with the same (unexpired) token, it never runs
    with pytest.raises(AppLockedError), guard.session_for(me):
        ran.append("phi")
    # Then the unlock routes, sign-out and the refresh still pass, and keep it alive
    with guard.session_for(me, while_locked=True):
        ran.append("unlock")
    guard.touch(me, while_locked=True)
    assert ran == ["unlock"]


def test_an_overlapped_read_of_a_locked_session_is_refused_before_it_decrypts(
    guard: SessionGuard,
) -> None:
    me = _signed_in()
    guard.touch(me)
    guard.lock(me)
    decrypted: list[str] = []

    with pytest.raises(AppLockedError), guard.session_for(me, overlap=True) as acting:
        acting.settle_session(None)
        decrypted.append("body")

    assert decrypted == []


def test_unlocking_lifts_the_refusal(guard: SessionGuard) -> None:
    me = _signed_in()
    guard.touch(me)
    guard.lock(me)
    guard.unlock(me)  # what a right PIN or a verified passkey does
    with guard.session_for(me) as acting:
        assert acting is me


def test_the_lock_is_the_sessions_not_the_users(guard: SessionGuard) -> None:
    # Given the same user signed in on a laptop and a phone, and the phone locked
    phone, laptop = _signed_in("origin-phone"), _signed_in("origin-laptop")
    guard.touch(phone)
    guard.touch(laptop)
    guard.lock(phone)
    # Then the laptop keeps working and the phone does not
    assert _alive(guard, laptop)
    with pytest.raises(AppLockedError):
        guard.touch(phone)


def test_the_idle_logoff_still_ends_a_locked_session(
    guard: SessionGuard, clock: FixedClock
) -> None:
    # Given a locked session left alone past the idle limit
    me = _signed_in()
    guard.touch(me)
    guard.lock(me)
    clock.advance(minutes=16)
    # Then it is dead, not merely locked: even the unlock routes are refused (a right PIN
    # after an idle logoff is never checked: the full sign-in is needed)
    with pytest.raises(SessionExpiredError):
        guard.touch(me, while_locked=True)
    with pytest.raises(SessionExpiredError):
        guard.touch(me)


def test_sign_out_everywhere_ends_a_locked_session(guard: SessionGuard, clock: FixedClock) -> None:
    me = _signed_in()
    guard.touch(me)
    guard.lock(me)
    clock.advance(seconds=5)
    guard.sign_out_everywhere("harbor", "user-1")
    with pytest.raises(SessionExpiredError):
        guard.touch(me, while_locked=True)
    with pytest.raises(SessionExpiredError):
        guard.touch(me)
