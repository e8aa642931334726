"""A stream consumer keeps reading after a failed TransactWriteItems, as in DynamoDB
(local/moto_dynamodb.py's journaled transactions): moto's own rollback swapped the table
for a copy and stranded every iterator on the old one."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_dynamodb

pytestmark = pytest.mark.integration

TABLE = "streamed"


@pytest.fixture
def streamed(moto_aws: Any) -> tuple[Any, Any, str]:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    streams = boto3.client("dynamodbstreams")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return dynamodb, streams, iterator


def _keys(page: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in page["Records"]]


def test_the_harness_is_installed_for_every_test() -> None:
    assert moto_dynamodb.installed()


def test_a_consumers_iterator_sees_writes_after_a_failed_transaction(
    streamed: tuple[Any, Any, str],
) -> None:
    dynamodb, streams, iterator = streamed
    # Given a consumer that has read the stream so far
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "first"}})
    page = streams.get_records(ShardIterator=iterator)
    assert _keys(page) == ["first"]
    iterator = page["NextShardIterator"]

    # When a transaction fails its condition (moto rolls the table back) and a write follows
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "first"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})

    # Then the same consumer reads the write that followed, and nothing of the failed one
    assert _keys(streams.get_records(ShardIterator=iterator)) == ["after"]
