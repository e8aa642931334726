"""Local mode's DynamoDB Streams event source (local/streams.py) on moto's streams: batches
in stream order, filtered as the event source mapping filters, retried, then given up on."""

from __future__ import annotations

from typing import Any

import pytest

from functions.dal.aws import AwsClients
from functions.dal.schema import AUDIT_SEALER_FILTER, create_audit_table_kwargs
from local import moto_dynamodb
from local.streams import StreamPoller

pytestmark = pytest.mark.integration


@pytest.fixture
def table(clients: AwsClients) -> Any:
    clients.client("dynamodb").create_table(**create_audit_table_kwargs("streamed"))
    return clients.table("streamed")


def _put(table: Any, sort_key: str) -> None:
    table.put_item(Item={"pk": "AUDIT#harbor", "seq": sort_key})


class Recorder:
    def __init__(self, failures: int = 0) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failures_left = failures
        self.calls = 0

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self.calls += 1
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("handler failed")
        self.batches.append(event["Records"])

    def keys(self) -> list[str]:
        return [r["dynamodb"]["Keys"]["seq"]["S"] for batch in self.batches for r in batch]


def test_records_arrive_in_stream_order_in_lambda_shape(table: Any, clients: AwsClients) -> None:
    recorder = Recorder()
    for key in ("E#3", "E#1", "E#2"):
        _put(table, key)

    delivered = StreamPoller(clients, "streamed", recorder).poll()

    assert delivered == 3 and recorder.keys() == ["E#3", "E#1", "E#2"]
    record = recorder.batches[0][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventName"] == "INSERT"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert record["dynamodb"]["NewImage"]["seq"] == {"S": "E#3"}


def test_batches_hold_at_most_the_batch_size(table: Any, clients: AwsClients) -> None:
    recorder = Recorder()
    for n in range(5):
        _put(table, f"E#{n}")

    StreamPoller(clients, "streamed", recorder, batch_size=2).poll()

    assert [len(batch) for batch in recorder.batches] == [2, 2, 1]


def test_each_poll_delivers_only_what_is_new(table: Any, clients: AwsClients) -> None:
    recorder = Recorder()
    poller = StreamPoller(clients, "streamed", recorder)
    _put(table, "E#1")
    poller.poll()
    _put(table, "E#2")

    assert poller.poll() == 1
    assert poller.poll() == 0
    assert recorder.keys() == ["E#1", "E#2"]


def test_the_filter_drops_what_the_event_source_mapping_would(
    table: Any, clients: AwsClients
) -> None:
    recorder = Recorder()
    _put(table, "E#1")
    _put(table, "S#000000000001")
    _put(table, "M#E#1")
    table.update_item(
        Key={"pk": "AUDIT#harbor", "seq": "E#1"},
        UpdateExpression="SET actor = :a",
        ExpressionAttributeValues={":a": "x"},
    )
    table.delete_item(Key={"pk": "AUDIT#harbor", "seq": "E#1"})

    StreamPoller(clients, "streamed", recorder, filter_pattern=AUDIT_SEALER_FILTER).poll()

    assert recorder.keys() == ["E#1"]
    assert recorder.batches[0][0]["eventName"] == "INSERT"


def test_a_failed_batch_is_retried_whole_before_the_next(table: Any, clients: AwsClients) -> None:
    recorder = Recorder(failures=2)
    for key in ("E#1", "E#2"):
        _put(table, key)

    StreamPoller(clients, "streamed", recorder, batch_size=1, max_attempts=3, retry_delay=0).poll()

    assert recorder.calls == 4
    assert recorder.keys() == ["E#1", "E#2"]


class ReportsFirstFailure:
    """A handler that reports the batch's second record as failed once (batchItemFailures)."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        self.batches.append([r["dynamodb"]["Keys"]["seq"]["S"] for r in records])
        if len(self.batches) > 1:
            return {"batchItemFailures": []}
        return {"batchItemFailures": [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]}


def test_a_reported_item_failure_is_retried_from_that_record_as_lambda_does(
    table: Any, clients: AwsClients
) -> None:
    handler = ReportsFirstFailure()
    for key in ("E#1", "E#2", "E#3"):
        _put(table, key)

    StreamPoller(clients, "streamed", handler, max_attempts=3, retry_delay=0).poll()

    assert handler.batches == [["E#1", "E#2", "E#3"], ["E#2", "E#3"]]


def test_a_batch_that_keeps_failing_goes_to_on_failure_and_the_stream_moves_on(
    table: Any, clients: AwsClients
) -> None:
    recorder = Recorder(failures=3)
    given_up: list[tuple[list[str], str]] = []
    for key in ("E#1", "E#2"):
        _put(table, key)

    StreamPoller(
        clients,
        "streamed",
        recorder,
        batch_size=1,
        max_attempts=3,
        retry_delay=0,
        on_failure=lambda event, error: given_up.append(
            ([r["dynamodb"]["Keys"]["seq"]["S"] for r in event["Records"]], str(error))
        ),
    ).poll()

    assert given_up == [(["E#1"], "handler failed")]
    assert recorder.keys() == ["E#2"]


def test_a_poller_paused_past_its_iterators_life_resumes_after_its_last_record(
    table: Any, clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a poller that delivered one record, then paused 20 minutes (a suspended laptop)
    clock = [10_000.0]
    monkeypatch.setattr(moto_dynamodb, "_now", lambda: clock[0])
    recorder = Recorder()
    poller = StreamPoller(clients, "streamed", recorder)
    _put(table, "E#1")
    poller.poll()
    clock[0] += 20 * 60
    _put(table, "E#2")

    # When it polls again with its expired iterator
    delivered = poller.poll()

    # Then it picks up where it left off: the new record once, the old one not again
    assert delivered == 1
    assert recorder.keys() == ["E#1", "E#2"]


def test_a_poller_behind_the_trim_horizon_skips_to_it(
    table: Any, clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a poller whose next record was trimmed while it was paused
    clock = [10_000.0]
    monkeypatch.setattr(moto_dynamodb, "_now", lambda: clock[0])
    recorder = Recorder()
    poller = StreamPoller(clients, "streamed", recorder)
    poller.poll()
    _put(table, "E#lost")
    clock[0] += moto_dynamodb.STREAM_RETENTION_SECONDS + 60
    _put(table, "E#kept")

    # When it polls
    poller.poll()

    # Then it delivers what the stream still holds, as Lambda's event source would
    assert recorder.keys() == ["E#kept"]
