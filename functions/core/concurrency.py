"""Independent AWS calls at once: one round trip for several, with the errors of a serial run.

Every call waits ~10 ms on the network and almost nothing on the CPU, so a few threads
turn N sequential round trips into one. Only named places use this (tests/unit/
test_layering.py holds them to it): the cipher's KMS waves (functions/crypto/envelope.py)
and the data layer's combined calls (functions/dal/store/waves.py, the audit log's head
read-ahead); logic and handlers read top to bottom. The branches share boto3 *clients*,
which are thread-safe; see functions/dal/aws.py for why the DAL never builds condition
objects.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
T = TypeVar("T")

# Threads start on demand and stay (a warm instance reuses them): enough for a page of
# KMS Decrypts (at most 100) in one wave. Starting threads per call is what staggers a
# wave: each start waits for the GIL while the previous calls hold it.
_MAX_WORKERS = 100
_pool: ThreadPoolExecutor | None = None
_pool_guard = threading.Lock()
_in_pool = threading.local()


def _mark_worker() -> None:
    _in_pool.active = True


def _inside_pool() -> bool:
    return bool(getattr(_in_pool, "active", False))


def _executor() -> ThreadPoolExecutor:
    # One pool per process, kept across warm invocations (no thread start per request).
    global _pool  # noqa: PLW0603 - a lazily built process-wide pool
    with _pool_guard:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=_MAX_WORKERS,
                thread_name_prefix="quietline-io",
                initializer=_mark_worker,
            )
        return _pool


def _submit(call: Callable[[], T]) -> Future[T]:
    # Each branch runs in a copy of the caller's context (Powertools' logger state).
    if _inside_pool():
        # A branch that fans out again runs its own branches inline: a pool thread never
        # waits on the pool, so nesting cannot deadlock it.
        done: Future[T] = Future()
        try:
            done.set_result(call())
        except BaseException as error:  # handed to whoever waits on it
            done.set_exception(error)
        return done
    return _executor().submit(contextvars.copy_context().run, call)


@overload
def run_concurrently(a: Callable[[], A], b: Callable[[], B], /) -> tuple[A, B]: ...
@overload
def run_concurrently(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], /
) -> tuple[A, B, C]: ...
@overload
def run_concurrently(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], d: Callable[[], D], /
) -> tuple[A, B, C, D]: ...
@overload
def run_concurrently(*calls: Callable[[], Any]) -> tuple[Any, ...]: ...
def run_concurrently(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Run every call at once and return their results in argument order.

    Waits for all of them, then raises the exception of the first call (in argument
    order) that failed, unchanged: the error a sequential run in that order would have
    met first. So list the calls in the order their errors should take precedence. The
    first call runs on the calling thread.
    """
    return tuple(result.get() for result in settle_all(*calls))


@overload
def settle_all(a: Callable[[], A], b: Callable[[], B], /) -> tuple[Captured[A], Captured[B]]: ...
@overload
def settle_all(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], /
) -> tuple[Captured[A], Captured[B], Captured[C]]: ...
@overload
def settle_all(*calls: Callable[[], Any]) -> tuple[Captured[Any], ...]: ...
def settle_all(*calls: Callable[[], Any]) -> tuple[Captured[Any], ...]:
    """Run every call at once; return each one's value or exception, in argument order,
    raising none: the caller `get()`s them in the order its checks must fail in (a dead
    session before a missing thread, a missing thread before a bad cursor). The first
    call runs on the calling thread."""
    if not calls:
        return ()
    pending = [_submit(call) for call in calls[1:]]
    return (_captured(calls[0]), *(_settle(future) for future in pending))


def start(call: Callable[[], T]) -> Future[T]:
    """Begin `call` now; `.result()` waits for it and raises what it raised."""
    return _submit(call)


@dataclass(frozen=True)
class Captured(Generic[T]):
    """A call's value or its exception, held until `get()` is called."""

    value: T | None = None
    error: BaseException | None = None

    def get(self) -> T:
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


def _captured(call: Callable[[], T]) -> Captured[T]:
    try:
        return Captured(call())
    except Exception as error:  # re-raised unchanged by get()
        return Captured(error=error)


def _settle(future: Future[T]) -> Captured[T]:
    try:
        return Captured(future.result())
    except Exception as error:  # re-raised unchanged by get()
        return Captured(error=error)
