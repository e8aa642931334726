"""The harness makes moto's DynamoDB atomic under threads, as DynamoDB is (local/moto_dynamodb.py).

Without it, a TransactWriteItems whose condition fails restores a copy of the whole table
taken when it began, silently undoing other threads' writes: local mode and the load
benchmark then lost accepted messages that DynamoDB would have kept.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table
from moto.dynamodbstreams.models import dynamodbstreams_backends

from local import moto_dynamodb

pytestmark = pytest.mark.integration

TABLE = "concurrency"
WRITERS = 4
WRITES_PER_WRITER = 60


@pytest.fixture
def dynamodb(moto_aws: None) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=TABLE, Item={"pk": {"S": "guard"}})
    return client


class Streamed:
    """A table with a NEW_IMAGE stream, and readers of it from its trim horizon."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client = boto3.client("dynamodb")
        self.client.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        self.streams = boto3.client("dynamodbstreams")
        self.arn = self.client.describe_table(TableName=name)["Table"]["LatestStreamArn"]

    def put(self, key: str) -> None:
        self.client.put_item(TableName=self.name, Item={"pk": {"S": key}})

    def trim_horizon(self) -> str:
        (shard,) = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        iterator: str = self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        return iterator

    def read(self, iterator: str) -> tuple[list[str], str]:
        """The keys of the records from `iterator` on, and the next iterator."""
        page = self.streams.get_records(ShardIterator=iterator)
        keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]
        return keys, page["NextShardIterator"]


def _failing_put(table: str, key: str) -> dict[str, Any]:
    """A Put whose condition fails when `key` exists."""
    return {
        "Put": {
            "TableName": table,
            "Item": {"pk": {"S": key}},
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def test_the_harness_is_installed_for_every_test() -> None:
    assert moto_dynamodb.installed()


def test_a_failed_transaction_never_undoes_another_threads_writes(dynamodb: Any) -> None:
    # Switch threads often, as a server's request threads do while they wait on sockets.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    writers_done = threading.Event()
    cancelled = 0

    def failing_transactions() -> None:
        nonlocal cancelled
        while not writers_done.is_set():
            try:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "other"}}}},
                        {
                            "Put": {
                                "TableName": TABLE,
                                "Item": {"pk": {"S": "guard"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
            except ClientError as error:
                assert error.response["Error"]["Code"] == "TransactionCanceledException"
                cancelled += 1

    def writes(writer: int) -> None:
        for n in range(WRITES_PER_WRITER):
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"kept-{writer}-{n}"}})

    spoilers = [threading.Thread(target=failing_transactions) for _ in range(2)]
    writers = [threading.Thread(target=writes, args=(w,)) for w in range(WRITERS)]
    try:
        for thread in spoilers + writers:
            thread.start()
        for thread in writers:
            thread.join()
    finally:
        writers_done.set()
        for thread in spoilers:
            thread.join()
        sys.setswitchinterval(previous)

    assert cancelled > 0, "the failing transactions must have run alongside the writes"
    kept = dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"]
    # Every write plus the guard; the cancelled transactions' "other" never lands.
    assert kept == WRITERS * WRITES_PER_WRITER + 1


def test_a_cancelled_transaction_leaves_nothing_on_the_stream_and_kept_records_stay(
    moto_aws: None,
) -> None:
    # Given a table with a stream holding one record
    table = Streamed("streamed")
    table.put("guard")

    # When a transaction writes one item, then fails on its condition (rolled back)
    with pytest.raises(ClientError):
        table.client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "streamed", "Item": {"pk": {"S": "other"}}}},
                _failing_put("streamed", "guard"),
            ]
        )

    # Then the stream holds the first write only, as DynamoDB's would
    assert table.read(table.trim_horizon())[0] == ["guard"]


def test_a_consumers_iterator_sees_writes_after_a_failed_transaction(moto_aws: None) -> None:
    # Given a consumer that has read the stream so far (moto's own rollback swapped the
    # table for a copy and stranded every iterator on the old one)
    table = Streamed("streamed")
    table.put("first")
    keys, iterator = table.read(table.trim_horizon())
    assert keys == ["first"]

    # When a transaction fails its condition and a write follows
    with pytest.raises(ClientError):
        table.client.transact_write_items(TransactItems=[_failing_put("streamed", "first")])
    table.put("after")

    # Then the same consumer reads the write that followed, and nothing of the failed one
    assert table.read(iterator)[0] == ["after"]


def test_a_cancelled_transaction_restores_an_item_it_updated_and_removes_one_it_created(
    dynamodb: Any,
) -> None:
    # Given an item with a counter
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "counted"}, "n": {"N": "1"}})

    # When a transaction updates it and creates another, then fails on its last condition
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "counted"}},
                        "UpdateExpression": "SET n = n + :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "created"}}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "guard"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    # Then DynamoDB's answer, and the table exactly as before the transaction
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    counted = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "counted"}})["Item"]
    assert counted["n"] == {"N": "1"}
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "created"}})


def test_transactions_leave_no_table_copies_behind(dynamodb: Any) -> None:
    # Given a table with a few hundred items (moto once copied all of them per transaction
    # and kept every copy: local mode grew by megabytes per inbound text)
    for n in range(200):
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"row-{n}"}})

    # When transactions commit and cancel
    for n in range(20):
        items = [{"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"tx-{n}"}}}}]
        if n % 2:
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "guard"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            )
        with contextlib.suppress(ClientError):
            dynamodb.transact_write_items(TransactItems=items)

    # Then no table object exists beyond the tables themselves, and the committed half stayed
    gc.collect()
    copies = [obj for obj in gc.get_objects() if isinstance(obj, Table) and obj.name == TABLE]
    assert len(copies) == 1
    kept = dynamodb.scan(TableName=TABLE, Select="COUNT")["Count"]
    assert kept == 1 + 200 + 10


def test_shard_iterators_expire_after_fifteen_minutes_as_in_dynamodb_streams(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a streamed table and a poller's iterator
    clock = [1000.0]
    monkeypatch.setattr(moto_dynamodb, "_now", lambda: clock[0])
    table = Streamed("polled")
    first = table.trim_horizon()

    # When a poller follows NextShardIterator for 20 minutes, once a minute
    iterator = first
    for _ in range(20):
        clock[0] += 60
        iterator = table.read(iterator)[1]

    # Then the fresh iterator works, the first has expired with DynamoDB's error, and the
    # backend holds only the last quarter hour's iterators
    assert table.read(iterator)[0] == []
    with pytest.raises(ClientError) as expired:
        table.read(first)
    assert expired.value.response["Error"]["Code"] == "ExpiredIteratorException"
    backend = next(iter(next(iter(dynamodbstreams_backends.values())).values()))
    # (one a minute for the last quarter hour, both ends included, and the newest)
    assert len(backend.shard_iterators) <= moto_dynamodb.ITERATOR_LIFETIME_SECONDS // 60 + 2


def test_stream_records_are_trimmed_after_local_retention_and_reading_behind_says_so(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a streamed table, an iterator at its trim horizon, and two writes ten minutes apart
    clock = [5000.0]
    monkeypatch.setattr(moto_dynamodb, "_now", lambda: clock[0])
    table = Streamed("kept")
    stale = table.trim_horizon()
    table.put("early")
    clock[0] += moto_dynamodb.STREAM_RETENTION_SECONDS + 60
    table.put("late")

    # When a new reader starts at the trim horizon, and the old iterator reads
    records = table.read(table.trim_horizon())[0]

    # Then only the record within retention is there, and reading behind it is refused
    assert records == ["late"]
    with pytest.raises(ClientError) as behind:
        table.read(stale)
    assert behind.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    # and the table itself keeps both items
    assert table.client.scan(TableName="kept", Select="COUNT")["Count"] == 2
