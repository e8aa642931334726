"""DynamoDB stream events as Lambda delivers them, read from a moto table's real stream.

The staff notifier is driven with these in the tests: the records are the ones moto's
`dynamodbstreams` API returns for the writes the code made (nothing hand-made), reshaped
the way Lambda's event source mapping hands them over (epoch-second timestamps, base64
binaries, the stream ARN) and filtered with the mapping's own FilterCriteria pattern.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.dal.aws import AwsClients
from functions.dal.schema import NEW_INBOUND_MESSAGE_FILTER


def _wire(value: Any) -> Any:
    """A typed attribute value as Lambda's JSON carries it (binaries in base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, Mapping):
        return {key: _wire(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_wire(inner) for inner in value]
    return value


def _lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    change = dict(record["dynamodb"])
    when = change.get("ApproximateCreationDateTime")
    if isinstance(when, datetime):
        change["ApproximateCreationDateTime"] = int(when.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = _wire(change[image])
    rest = {key: value for key, value in record.items() if key != "dynamodb"}
    return {**rest, "dynamodb": change, "eventSourceARN": stream_arn}


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """Lambda event filtering, for the rules our patterns use: exact values and prefixes."""
    for key, rule in pattern.items():
        if key not in event:
            return False
        value = event[key]
        if isinstance(rule, Mapping):
            if not (isinstance(value, Mapping) and matches(rule, value)):
                return False
        elif not any(_allowed(option, value) for option in rule):
            return False
    return True


def _allowed(option: Any, value: Any) -> bool:
    if isinstance(option, Mapping):
        if set(option) != {"prefix"}:
            raise ValueError(f"filter rule not modeled here: {sorted(option)}")
        return isinstance(value, str) and value.startswith(option["prefix"])
    return bool(option == value)


class TableStream:
    """A table's stream, read from its start onward, one Lambda batch at a time."""

    def __init__(self, clients: AwsClients, table_name: str) -> None:
        self._streams = clients.client("dynamodbstreams")
        table = clients.client("dynamodb").describe_table(TableName=table_name)["Table"]
        self.arn: str = table["LatestStreamArn"]
        shards = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]["Shards"]
        self._iterators = {
            shard["ShardId"]: self._streams.get_shard_iterator(
                StreamArn=self.arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        }

    def event(
        self, pattern: Mapping[str, Any] | None = NEW_INBOUND_MESSAGE_FILTER
    ) -> dict[str, Any]:
        """The records written since the last call, as Lambda would deliver them to a
        mapping with `pattern` as its filter (None: unfiltered)."""
        records: list[dict[str, Any]] = []
        for shard, iterator in self._iterators.items():
            response = self._streams.get_records(ShardIterator=iterator)
            self._iterators[shard] = response["NextShardIterator"]
            records += [_lambda_record(record, self.arn) for record in response["Records"]]
        return {"Records": [r for r in records if pattern is None or matches(pattern, r)]}
