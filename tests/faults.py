"""Fault injection for boto3 clients: make an operation fail the way AWS fails it."""

from __future__ import annotations

from typing import Any


class _Response:
    headers: dict[str, str] = {}  # noqa: RUF012 - mimics botocore's response attribute

    def __init__(self, status: int) -> None:
        self.status_code = status


class Fault:
    """Fails `operation` on `client` with `code` for `times` calls (None: until cleared)."""

    def __init__(
        self, client: Any, operation: str, code: str, *, status: int = 400, times: int | None = None
    ):
        self.remaining = times
        self.hits = 0
        self._client = client
        self._operation = operation
        self._code = code
        self._status = status
        self._unique = f"fault-{id(self)}"
        client.meta.events.register(
            f"before-call.*.{operation}", self._fail, unique_id=self._unique
        )

    def _fail(self, **_: Any) -> Any:
        if self.remaining is not None:
            if self.remaining <= 0:
                return None
            self.remaining -= 1
        self.hits += 1
        return _Response(self._status), {
            "Error": {"Code": self._code, "Message": "injected fault"},
            "ResponseMetadata": {"HTTPStatusCode": self._status},
        }

    def clear(self) -> None:
        self._client.meta.events.unregister(
            f"before-call.*.{self._operation}", unique_id=self._unique
        )
