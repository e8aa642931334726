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
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="streamed",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    client.put_item(TableName="streamed", Item={"pk": {"S": "guard"}})

    # When a transaction writes one item, then fails on its condition (rolled back)
    with pytest.raises(ClientError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "streamed", "Item": {"pk": {"S": "other"}}}},
                {
                    "Put": {
                        "TableName": "streamed",
                        "Item": {"pk": {"S": "guard"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    # Then the stream holds the first write only, as DynamoDB's would
    streams = boto3.client("dynamodbstreams")
    arn = client.describe_table(TableName="streamed")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["guard"]


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
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="polled",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    streams = boto3.client("dynamodbstreams")
    arn = client.describe_table(TableName="polled")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    first = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    # When a poller follows NextShardIterator for 20 minutes, once a minute
    iterator = first
    for _ in range(20):
        clock[0] += 60
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]

    # Then the fresh iterator works, the first has expired with DynamoDB's error, and the
    # backend holds only the last quarter hour's iterators
    assert streams.get_records(ShardIterator=iterator)["Records"] == []
    with pytest.raises(ClientError) as expired:
        streams.get_records(ShardIterator=first)
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
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="kept",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    streams = boto3.client("dynamodbstreams")
    arn = client.describe_table(TableName="kept")["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    stale = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    client.put_item(TableName="kept", Item={"pk": {"S": "early"}})
    clock[0] += moto_dynamodb.STREAM_RETENTION_SECONDS + 60
    client.put_item(TableName="kept", Item={"pk": {"S": "late"}})

    # When a new reader starts at the trim horizon, and the old iterator reads
    fresh = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=fresh)["Records"]

    # Then only the record within retention is there, and reading behind it is refused
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["late"]
    with pytest.raises(ClientError) as behind:
        streams.get_records(ShardIterator=stale)
    assert behind.value.response["Error"]["Code"] == "TrimmedDataAccessException"
    # and the table itself keeps both items
    assert client.scan(TableName="kept", Select="COUNT")["Count"] == 2
