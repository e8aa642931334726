"""Lambda's DynamoDB Streams event source, played locally: read a table's stream and hand
a handler Lambda-shaped batches, in order, filtered as the event source mapping filters.

Generic: any table with a stream and any handler (local mode runs the audit sealer with
it). As Lambda does for a stream: one batch at a time per shard, records in stream
order, records the filter rejects dropped, a failed batch retried (from the record the
handler reported in batchItemFailures, else as a whole) and, after
`max_attempts`, reported to `on_failure` and skipped (the on-failure destination).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from functions.dal.aws import AwsClients
from local.apigw import LambdaContext

logger = logging.getLogger("quietline.local")
Handler = Callable[[dict[str, Any], Any], Any]
# Lambda polls each shard about four times a second.
POLL_INTERVAL_SECONDS = 0.25
_LOST_PLACE = frozenset({"ExpiredIteratorException", "TrimmedDataAccessException"})
FailedBatch = Callable[[dict[str, Any], Exception], None]


# --- the event filter (the subset of Lambda's filter grammar that plain data can hold) ------
def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Whether `record` passes a Lambda event-filter `pattern`.

    Supported: nested objects, and lists of literals (equality), {"prefix": ...} and
    {"exists": bool}; anything else raises rather than passing records silently.
    """
    for name, rule in pattern.items():
        present = name in record
        value = record.get(name)
        if isinstance(rule, Mapping):
            if not isinstance(value, Mapping) or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not any(_matches_one(option, present, value) for option in rule):
                return False
        else:
            raise ValueError(f"filter rule for {name!r} must be an object or a list")
    return True


def _matches_one(option: Any, present: bool, value: Any) -> bool:
    if isinstance(option, Mapping):
        if set(option) == {"prefix"}:
            return isinstance(value, str) and value.startswith(str(option["prefix"]))
        if set(option) == {"exists"}:
            return present is bool(option["exists"])
        raise ValueError(f"unsupported filter operator {sorted(option)}")
    return present and value == option


# --- Lambda-shaped events ----------------------------------------------------------------------
def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it (creation time in epoch seconds)."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    return {
        "eventID": record.get("eventID") or uuid.uuid4().hex,
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", ""),
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    }


class StreamPoller:
    """One consumer of one table's stream (every shard, parents before children)."""

    def __init__(
        self,
        clients: AwsClients,
        table_name: str,
        handler: Handler,
        *,
        filter_pattern: Mapping[str, Any] | None = None,
        batch_size: int = 100,
        max_attempts: int = 3,
        retry_delay: float = 0.2,
        on_failure: FailedBatch | None = None,
    ) -> None:
        self._handler = handler
        self._filter = filter_pattern
        self._batch_size = batch_size
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._on_failure = on_failure or _log_failure
        self._streams = clients.client("dynamodbstreams")
        table = clients.client("dynamodb").describe_table(TableName=table_name)
        self.stream_arn: str = table["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}  # shard id -> next iterator (None: done)
        self._after: dict[str, str] = {}  # shard id -> last sequence number delivered
        self._function_name = f"local-stream-{table_name}"
        self._stop = threading.Event()

    def poll(self) -> int:
        """Deliver everything the stream holds now; returns how many records were handed over."""
        delivered = 0
        for shard_id in self._ready_shards():
            while (iterator := self._iterators.get(shard_id)) is not None:
                try:
                    page = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)
                except ClientError as error:
                    code = error.response["Error"]["Code"]
                    if code not in _LOST_PLACE:
                        raise
                    self._resume(shard_id, code)
                    continue
                records: Sequence[Mapping[str, Any]] = page.get("Records", [])
                delivered += self._deliver(records)
                if records:
                    self._after[shard_id] = str(records[-1]["dynamodb"]["SequenceNumber"])
                # A closed shard ends without a next iterator; an open one may have more.
                self._iterators[shard_id] = page.get("NextShardIterator")
                if not records:
                    break
        return delivered

    def _resume(self, shard_id: str, code: str) -> None:
        """After a paused poller (a suspended laptop): an expired iterator (15 minutes) resumes
        after the last record delivered; past the trim horizon, the poller skips to it, as
        Lambda's event source does, with a line in the log."""
        after = self._after.get(shard_id)
        if code == "ExpiredIteratorException" and after is not None:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
        else:
            if code == "TrimmedDataAccessException":
                logger.warning("stream consumer skipped to the trim horizon (records trimmed)")
            position = {"ShardIteratorType": "TRIM_HORIZON"}
        self._iterators[shard_id] = self._streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **position
        )["ShardIterator"]

    def run(self, stop: threading.Event, interval: float = POLL_INTERVAL_SECONDS) -> None:
        """Poll until `stop` is set."""
        self._stop = stop
        while not stop.is_set():
            try:
                self.poll()
            except Exception:  # keep polling, as the event source would
                logger.exception("stream consumer failed")
            stop.wait(interval)

    def _ready_shards(self) -> list[str]:
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ]
        known = {shard["ShardId"] for shard in shards}
        ready = []
        for shard in shards:
            shard_id, parent = shard["ShardId"], shard.get("ParentShardId")
            if shard_id not in self._iterators:
                if parent in known and self._iterators.get(parent, "") is not None:
                    continue  # its parent's records come first
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            ready.append(shard_id)
        return ready

    def _deliver(self, records: Sequence[Mapping[str, Any]]) -> int:
        shaped = [lambda_record(record, self.stream_arn) for record in records]
        passing = [r for r in shaped if self._filter is None or matches(self._filter, r)]
        if not passing:
            return 0
        event = {"Records": passing}
        for attempt in range(1, self._max_attempts + 1):
            try:
                result = self._handler(event, LambdaContext(self._function_name))
                remaining = _from_failed_item(event["Records"], result)
                if not remaining:
                    return len(passing)
                # As Lambda does with ReportBatchItemFailures: retry from the failed record.
                event = {"Records": remaining}
                raise BatchItemFailure(f"{len(remaining)} record(s) reported as failed")
            except Exception as error:
                if attempt == self._max_attempts:
                    self._on_failure(event, error)
                    return 0
                logger.warning(
                    "stream batch failed (attempt %d): %s", attempt, type(error).__name__
                )
                self._stop.wait(self._retry_delay * attempt)
        return 0  # pragma: no cover - the loop returns


class BatchItemFailure(Exception):
    """The handler reported a record as failed (batchItemFailures): the batch is retried
    from it, and counts as a failed attempt."""


def _from_failed_item(records: list[dict[str, Any]], result: Any) -> list[dict[str, Any]]:
    """The records from the first one the handler reported as failed ([]: none was)."""
    failures = result.get("batchItemFailures") if isinstance(result, Mapping) else None
    if not failures:
        return []
    failed = {str(f.get("itemIdentifier")) for f in failures}
    for index, record in enumerate(records):
        if str(record["dynamodb"].get("SequenceNumber")) in failed:
            return records[index:]
    return records  # an identifier Lambda would not know: it retries the whole batch


def _log_failure(event: dict[str, Any], error: Exception) -> None:
    numbers = [r["dynamodb"].get("SequenceNumber") for r in event["Records"]]
    logger.error(
        "stream batch given up on: %d record(s), sequence numbers %s..%s (%s)",
        len(numbers),
        numbers[0],
        numbers[-1],
        type(error).__name__,
    )


def consumer(
    clients: AwsClients,
    table_name: str,
    handler: Handler,
    stop: threading.Event,
    *,
    filter_pattern: Mapping[str, Any] | None = None,
) -> threading.Thread:
    """A background thread polling the table's stream, as local mode's other workers run."""
    poller = StreamPoller(clients, table_name, handler, filter_pattern=filter_pattern)
    return threading.Thread(target=poller.run, args=(stop,), daemon=True)
