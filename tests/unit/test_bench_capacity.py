"""DynamoDB capacity estimates from item sizes (bench/capacity.py), by the documented rules."""

from __future__ import annotations

import base64

import pytest

from bench.capacity import (
    IndexKeys,
    estimate_read,
    estimate_write,
    item_size,
    number_size,
    read_units,
    value_size,
    write_targets,
    write_units,
)

pytestmark = pytest.mark.unit

GSI = IndexKeys("by_activity", ("gsi1pk", "gsi1sk"))


@pytest.mark.parametrize(
    ("text", "size"), [("0", 2), ("7", 2), ("12", 2), ("123", 3), ("1000", 2), ("0.0015", 2)]
)
def test_given_numbers_when_sized_then_half_the_significant_digits_plus_one(
    text: str, size: int
) -> None:
    assert number_size(text) == size


def test_given_each_type_when_sized_then_by_its_rule() -> None:
    assert value_size({"S": "héllo"}) == 6  # UTF-8 bytes
    assert value_size({"B": base64.b64encode(b"\x00" * 10).decode()}) == 10
    assert value_size({"BOOL": True}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1


def test_given_an_item_when_sized_then_names_count_too() -> None:
    assert item_size({"pk": {"S": "abc"}, "n": {"N": "5"}}) == 2 + 3 + 1 + 2
    assert item_size(None) == 0


def test_given_sizes_when_units_then_rounded_up_with_consistency_and_transactions() -> None:
    assert read_units(100, consistent=True) == 1
    assert read_units(100, consistent=False) == 0.5
    assert read_units(4097, consistent=True) == 2
    assert read_units(100, consistent=False, transactional=True) == 2
    assert write_units(0) == 1
    assert write_units(1025) == 2
    assert write_units(10, transactional=True) == 2


def _item(size_padding: int, activity: str | None) -> dict[str, dict[str, str]]:
    item = {"pk": {"S": "TENANT#t"}, "sk": {"S": "CONV#c"}, "pad": {"S": "x" * size_padding}}
    if activity:
        item["gsi1pk"] = {"S": "CONVS#t"}
        item["gsi1sk"] = {"S": activity}
    return item


def test_given_a_new_item_in_an_index_when_put_then_one_index_write() -> None:
    estimate = estimate_write(None, _item(10, "a"), [GSI], transactional=False)

    assert (estimate.table_units, estimate.index_units) == (1, 1)


def test_given_an_index_key_change_when_written_in_a_transaction_then_delete_and_put() -> None:
    estimate = estimate_write(_item(10, "a"), _item(10, "b"), [GSI], transactional=True)

    assert (estimate.table_units, estimate.index_units) == (2, 2)


def test_given_the_larger_image_when_written_then_it_sets_the_units() -> None:
    estimate = estimate_write(_item(1500, None), _item(10, None), [GSI], transactional=False)

    assert (estimate.table_units, estimate.index_units) == (2, 0)


def test_given_a_condition_check_or_a_failed_write_then_no_index_units() -> None:
    check = estimate_write(None, None, [GSI], transactional=True, condition_check=True)
    failed = estimate_write(None, _item(10, "a"), [GSI], transactional=False, applied=False)

    assert (check.total, failed.total) == (2, 1)


def test_given_reads_when_estimated_then_by_returned_bytes() -> None:
    item = _item(5000, None)

    assert estimate_read("GetItem", {"ConsistentRead": True}, {"Item": item}) == 2
    assert estimate_read("GetItem", {}, {}) == 0.5
    assert estimate_read("Query", {}, {"Items": [item, item]}) == 1.5
    assert estimate_read("PutItem", {}, {}) == 0


def test_given_write_requests_when_targets_then_each_item_with_its_key() -> None:
    keys = {"t": ["pk", "sk"]}
    item = {"pk": {"S": "a"}, "sk": {"S": "b"}, "x": {"S": "y"}}
    request = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": item}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "c"}, "sk": {"S": "d"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "e"}, "sk": {"S": "f"}}}},
        ]
    }

    targets = write_targets("TransactWriteItems", request, keys)

    assert [(t.kind, t.key["pk"]["S"], t.transactional) for t in targets] == [
        ("Put", "a", True),
        ("Update", "c", True),
        ("ConditionCheck", "e", True),
    ]
    put = write_targets("PutItem", {"TableName": "t", "Item": item}, keys)
    assert put[0].key == {"pk": {"S": "a"}, "sk": {"S": "b"}}
    assert write_targets("GetItem", {}, keys) == []
