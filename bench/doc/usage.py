"""The usage section: KMS requests, DynamoDB capacity and log bytes per operation."""

from __future__ import annotations

from bench.doc.base import (
    PER_THOUSAND,
    Doc,
    Figures,
    Lines,
    Section,
    method,
    percent,
    raw,
    services,
    table,
)


def _kms_batch(batch: Figures) -> str:
    texts, numbers = batch["messages"], batch["first_contacts"]
    data_keys = batch["kms_by_operation"].get("kms.GenerateDataKey", 0)
    split = (
        f" GenerateDataKey requests: {data_keys}, which is one per text plus one per first "
        f"contact ({texts} + {numbers})."
        if data_keys == texts + numbers
        else f" GenerateDataKey requests: {data_keys}, for {texts} texts and {numbers} first "
        "contacts."
    )
    return (
        f"**KMS requests per {PER_THOUSAND:,} inbound messages:** "
        f"{batch['kms_per_1000_inbound']:,}, from a new Lambda instance taking {texts} inbound "
        f"texts from {numbers} numbers in turn ({numbers} first contacts, "
        f"{percent(numbers, texts)}): {services(batch['kms_by_operation'])}." + split
    )


def body(data: Figures, doc: Doc) -> Lines:
    ops = data["operations"]
    rows = [
        (
            op["operation"],
            op.get("kms_requests", "—"),
            op["calls_by_service"].get("dynamodb", 0),
            op.get("read_units", "—"),
            op.get("write_units", "—"),
            op.get("log_bytes", "—"),
        )
        for op in ops
    ]
    sizes = data["stored_sizes"]
    return [
        method(
            f"From the same operations as {doc.ref('round_trips')}, in ",
            f"{data['capacity_runs']} further untimed runs each (medians). KMS requests are ",
            "the recorded calls. DynamoDB capacity: moto answers `ReturnConsumedCapacity` only ",
            "with constants (1.0 per GetItem or Query whatever the item size, nothing at all ",
            "for TransactWriteItems), so the units are *estimated* from the items actually read ",
            "and written, by DynamoDB's documented on-demand rules (`bench/capacity.py`): reads ",
            "ceil(size/4 KB), halved when eventually consistent; writes ceil(size/1 KB) of the ",
            "larger of the item before and after (both fetched around each write with an ",
            "unrecorded client); doubled inside transactions; plus one index write per index ",
            "the item is in (two when its index key changes). *App log bytes* is what the ",
            "function's logger wrote at INFO (Lambda's own START/END/REPORT lines not ",
            "included). Stored size: the message item with its encrypted body plus its ",
            "carrier-id item, averaged over the messages the run stored.",
        ),
        "",
        table(
            (
                "Operation",
                "KMS requests",
                "DynamoDB calls",
                "Read units",
                "Write units",
                "App log bytes",
            ),
            rows,
        ),
        "",
        _kms_batch(data["kms_inbound_batch"]),
        "",
        f"Stored size: {sizes['bytes_per_message']:.0f} bytes per message on average, over "
        f"{sizes['messages']} messages of this run.",
        "",
    ]


SECTION = Section(
    key="usage",
    title="KMS and DynamoDB usage",
    figures=raw("round_trips"),
    body=body,
)
