"""DynamoDB on-demand capacity estimated from item sizes (moto does not report it).

moto answers `ReturnConsumedCapacity` with constants (1.0 per GetItem or Query whatever the
size, nothing at all for TransactWriteItems), so the figures here follow DynamoDB's
documented rules instead, applied to the items actually read and written:

- item size: attribute names + values (strings and binaries by byte length, numbers
  about half their significant digits + 1, lists and maps 3 bytes + 1 per element);
- reads: ceil(bytes / 4 KB) per GetItem, per Query over the items returned together;
  half for eventually consistent reads, double inside a transaction;
- writes: ceil(bytes / 1 KB) of the larger of the item before and after, double inside a
  transaction (a ConditionCheck counts as a write of the item checked);
- each index the item is in before or after the write (all projections here are ALL):
  one more write of that size, two when the write moves the item to another index key.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024

TypedItem = Mapping[str, Mapping[str, Any]]


def number_size(text: str) -> int:
    """Bytes DynamoDB counts for a number: about half its significant digits, plus one."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return len(text)
    digits = value.as_tuple().digits
    significant = "".join(str(d) for d in digits).strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per type
    """Size of one typed attribute value ({"S": ...}, {"N": ...}, {"M": {...}}, ...)."""
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return number_size(str(raw))
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) if isinstance(v, str) else len(v) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: TypedItem | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(total_bytes: int, *, consistent: bool, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(total_bytes / READ_UNIT_BYTES)))
    if transactional:
        return units * 2
    return units if consistent else units / 2


def write_units(item_bytes: int, *, transactional: bool = False) -> float:
    units = float(max(1, math.ceil(item_bytes / WRITE_UNIT_BYTES)))
    return units * 2 if transactional else units


@dataclass(frozen=True)
class IndexKeys:
    """An index (GSI or LSI) by its key attribute names."""

    name: str
    attributes: tuple[str, ...]

    def key_of(self, item: TypedItem | None) -> tuple[str, ...] | None:
        if not item or not all(a in item for a in self.attributes):
            return None
        return tuple(str(item[a]) for a in self.attributes)


@dataclass(frozen=True)
class WriteEstimate:
    table_units: float
    index_units: float

    @property
    def total(self) -> float:
        return self.table_units + self.index_units


def estimate_write(
    pre: TypedItem | None,
    post: TypedItem | None,
    indexes: Sequence[IndexKeys],
    *,
    transactional: bool,
    condition_check: bool = False,
    applied: bool = True,
) -> WriteEstimate:
    """One item written (or checked): table units plus index maintenance units."""
    size = max(item_size(pre), item_size(post))
    table = write_units(size, transactional=transactional)
    if condition_check or not applied:
        return WriteEstimate(table, 0.0)
    index_units = 0.0
    for index in indexes:
        before, after = index.key_of(pre), index.key_of(post)
        if before is None and after is None:
            continue
        if before is not None and after is not None and before != after:
            index_units += write_units(item_size(pre)) + write_units(item_size(post))
        elif after is not None:
            index_units += write_units(max(item_size(pre), item_size(post)))
        else:
            index_units += write_units(item_size(pre))
    return WriteEstimate(table, index_units)


def estimate_read(
    operation: str, request: Mapping[str, Any] | None, response: Mapping[str, Any] | None
) -> float:
    """Read units of one GetItem, Query, BatchGetItem or TransactGetItems."""
    request = request or {}
    response = response or {}
    consistent = bool(request.get("ConsistentRead"))
    if operation == "GetItem":
        return read_units(item_size(response.get("Item")), consistent=consistent)
    if operation in ("Query", "Scan"):
        total = sum(item_size(i) for i in response.get("Items", []))
        return read_units(total, consistent=consistent)
    if operation == "TransactGetItems":
        return sum(
            read_units(item_size(r.get("Item")), consistent=True, transactional=True)
            for r in response.get("Responses", [])
        )
    if operation == "BatchGetItem":
        found = response.get("Responses", {})
        return sum(
            read_units(
                item_size(item),
                consistent=bool(request.get("RequestItems", {}).get(t, {}).get("ConsistentRead")),
            )
            for t, items in found.items()
            for item in items
        )
    return 0.0


@dataclass(frozen=True)
class WriteTarget:
    """One item a write request touches: what kind of write, on which table, which key."""

    kind: str  # Put | Update | Delete | ConditionCheck
    table: str
    key: dict[str, Any]
    transactional: bool


def write_targets(
    operation: str, request: Mapping[str, Any] | None, key_names: Mapping[str, Sequence[str]]
) -> list[WriteTarget]:
    """The items a write call touches, with their keys (from `Key`, or `Item` for a Put)."""
    request = request or {}

    def key_from(table: str, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in key_names[table] if name in item}

    if operation == "PutItem":
        table = request["TableName"]
        return [WriteTarget("Put", table, key_from(table, request["Item"]), False)]
    if operation in ("UpdateItem", "DeleteItem"):
        kind = "Update" if operation == "UpdateItem" else "Delete"
        return [WriteTarget(kind, request["TableName"], dict(request["Key"]), False)]
    if operation == "TransactWriteItems":
        targets = []
        for action in request.get("TransactItems", []):
            ((kind, body),) = action.items()
            table = body["TableName"]
            key = key_from(table, body["Item"]) if kind == "Put" else dict(body["Key"])
            targets.append(WriteTarget(kind, table, key, True))
        return targets
    if operation == "BatchWriteItem":
        targets = []
        for table, requests in request.get("RequestItems", {}).items():
            for each in requests:
                if "PutRequest" in each:
                    item = each["PutRequest"]["Item"]
                    targets.append(WriteTarget("Put", table, key_from(table, item), False))
                else:
                    targets.append(
                        WriteTarget("Delete", table, dict(each["DeleteRequest"]["Key"]), False)
                    )
        return targets
    return []


WRITE_OPERATIONS = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
)
READ_OPERATIONS = frozenset({"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"})


class CapacityProbe:
    """Fetches each written item before and after the write (with an unrecorded client),
    so a write's units can follow the larger image and its index moves."""

    def __init__(self, dynamodb: Any, table_names: Sequence[str]) -> None:
        self._dynamodb = dynamodb
        self.key_names: dict[str, list[str]] = {}
        self.indexes: dict[str, list[IndexKeys]] = {}
        for table in table_names:
            description = dynamodb.describe_table(TableName=table)["Table"]
            self.key_names[table] = [k["AttributeName"] for k in description["KeySchema"]]
            self.indexes[table] = [
                IndexKeys(i["IndexName"], tuple(k["AttributeName"] for k in i["KeySchema"]))
                for i in (
                    *description.get("GlobalSecondaryIndexes", []),
                    *description.get("LocalSecondaryIndexes", []),
                )
            ]

    def _image(self, target: WriteTarget) -> dict[str, Any] | None:
        found = self._dynamodb.get_item(
            TableName=target.table, Key=target.key, ConsistentRead=True
        ).get("Item")
        return dict(found) if found else None

    def before(self, call: Any) -> None:
        if call.service != "dynamodb" or call.operation not in WRITE_OPERATIONS:
            return
        targets = write_targets(call.operation, call.request, self.key_names)
        call.extra["targets"] = targets
        call.extra["pre"] = [self._image(t) for t in targets]

    def after(self, call: Any) -> None:
        targets = call.extra.get("targets")
        if targets is not None:
            call.extra["post"] = [self._image(t) for t in targets]

    def units(self, call: Any) -> tuple[float, float]:
        """(read units, write units) of one recorded DynamoDB call."""
        if call.service != "dynamodb":
            return 0.0, 0.0
        if call.operation in READ_OPERATIONS:
            return estimate_read(call.operation, call.request, call.response), 0.0
        targets: list[WriteTarget] = call.extra.get("targets", [])
        applied = 200 <= call.status < 300
        total = 0.0
        for target, pre, post in zip(
            targets, call.extra.get("pre", []), call.extra.get("post", []), strict=True
        ):
            total += estimate_write(
                pre,
                post,
                self.indexes.get(target.table, []),
                transactional=target.transactional,
                condition_check=target.kind == "ConditionCheck",
                applied=applied,
            ).total
        return 0.0, total
