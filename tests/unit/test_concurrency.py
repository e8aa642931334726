"""run_concurrently / settle_all: independent calls at once, results in order, errors as a
serial run's (or held for the caller to raise in the order its checks fail in)."""

from __future__ import annotations

import contextvars
import threading

import pytest

from functions.core.concurrency import run_concurrently, settle_all, start
from functions.core.errors import DependencyError, NotFoundError, ThrottledError
from functions.dal import aws
from functions.dal.store import MAX_PAGE_SIZE

pytestmark = pytest.mark.unit

# A guard against a hang, not a timing assertion: the barrier only opens if all overlap.
_GUARD_S = 10.0


def test_given_calls_when_run_then_results_come_back_in_argument_order() -> None:
    assert run_concurrently(lambda: 1, lambda: "two", lambda: None) == (1, "two", None)
    assert run_concurrently() == ()


def test_given_several_calls_when_run_then_they_all_overlap() -> None:
    # Each call waits for all the others: a serial run would break the barrier.
    barrier = threading.Barrier(4, timeout=_GUARD_S)
    # Each waiter gets its own arrival index: four distinct ones mean all four were waiting.
    assert sorted(run_concurrently(*(barrier.wait for _ in range(4)))) == [0, 1, 2, 3]


def test_given_failures_when_run_then_the_first_in_argument_order_is_raised_unchanged() -> None:
    ran: list[str] = []

    def fails(error: Exception, name: str) -> None:
        ran.append(name)
        raise error

    throttled = ThrottledError("kms:GenerateDataKey: ThrottlingException")
    with pytest.raises(ThrottledError) as raised:
        run_concurrently(
            lambda: ran.append("ok"),
            lambda: fails(throttled, "second"),
            lambda: fails(NotFoundError("conversation not found"), "third"),
        )
    assert raised.value is throttled
    # Every branch ran to its end: nothing is left running after the error surfaces.
    assert sorted(ran) == ["ok", "second", "third"]


def test_given_the_first_call_fails_then_its_error_wins_over_later_ones() -> None:
    def first() -> None:
        raise DependencyError("GetItem tenant: InternalServerError")

    def later() -> None:
        raise NotFoundError("conversation not found")

    with pytest.raises(DependencyError):
        run_concurrently(first, later)


def test_given_settled_calls_then_each_error_waits_for_its_get() -> None:
    ran: list[str] = []

    def bad_cursor() -> list[str]:
        ran.append("page")
        raise NotFoundError("from the page")

    def dead_session() -> bool:
        ran.append("touch")
        raise DependencyError("TransactWriteItems session: InternalServerError")

    touch, conversation, page = settle_all(dead_session, lambda: "conversation", bad_cursor)

    # Nothing was raised, every call ran, and each part answers for itself.
    assert sorted(ran) == ["page", "touch"]
    assert conversation.get() == "conversation"
    with pytest.raises(DependencyError):
        touch.get()
    with pytest.raises(NotFoundError):
        page.get()


def test_given_settled_calls_then_they_all_overlap() -> None:
    barrier = threading.Barrier(3, timeout=_GUARD_S)
    assert all(r.error is None for r in settle_all(*(barrier.wait for _ in range(3))))


def test_given_a_branch_that_fans_out_again_then_it_runs_inline_and_cannot_deadlock() -> None:
    def nested(depth: int) -> int:
        if depth == 0:
            return 1
        return sum(run_concurrently(*(lambda: nested(depth - 1) for _ in range(3))))

    # 3 x 3 x 3 leaves, far more waits than a small pool could hold if it nested naively.
    assert sum(run_concurrently(*(lambda: nested(3) for _ in range(40)))) == 40 * 27


def test_given_a_context_variable_then_every_branch_sees_the_callers_value() -> None:
    request: contextvars.ContextVar[str] = contextvars.ContextVar("request", default="none")
    request.set("req-1")
    assert run_concurrently(request.get, request.get, request.get) == ("req-1",) * 3


def test_given_a_started_call_then_result_returns_or_raises_what_it_did() -> None:
    assert start(lambda: 42).result(timeout=_GUARD_S) == 42

    def fails() -> None:
        raise DependencyError("sqs:SendMessage: InternalError")

    with pytest.raises(DependencyError):
        start(fails).result(timeout=_GUARD_S)


def test_a_page_of_decrypts_fits_one_wave_of_connections() -> None:
    # One connection per parallel call: a page's KMS Decrypts never wait for a connection.
    assert MAX_PAGE_SIZE <= aws.MAX_PARALLEL_CALLS
    assert aws._CONFIG.max_pool_connections >= MAX_PAGE_SIZE
