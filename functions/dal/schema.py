"""The DynamoDB table definition, shared by the CDK app and local mode.

This is the single source of truth for key names, index names and TTL: the CDK
`MessageStore` construct builds the deployed table from it and local mode creates the
moto table from it, so the two cannot drift. Plain data only (no boto3, no CDK).
See docs/data-model.md for every item type and access pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: str
    sort_key: str


# Conversations of a tenant ordered by last activity (sparse: only conversation items).
CONVERSATIONS_BY_ACTIVITY = GlobalIndex("by_activity", "gsi1pk", "gsi1sk")

# Outbound messages not yet handed to a carrier (sparse: removed once sent or failed).
# The sweeper reads it so a message can never sit in `queued` unnoticed.
PENDING_OUTBOUND = GlobalIndex("by_pending", "gsi2pk", "gsi2sk")

GLOBAL_INDEXES: tuple[GlobalIndex, ...] = (CONVERSATIONS_BY_ACTIVITY, PENDING_OUTBOUND)

# The table's change stream: staff hear of a new inbound text from it, off the request
# path (functions/handlers/staff_notifier.py). NEW_IMAGE rather than KEYS_ONLY: only an
# image lets Lambda's event filter (below) drop every record but an inbound message's
# insert, so the notifier is invoked for nothing else and never reads the item back; an
# image carries no plaintext PHI (bodies, numbers and names are envelope-encrypted under
# the tenant's key, conversation ids are blind indexes) and the stream is encrypted with
# the table's key. KEYS_ONLY would carry less, but could not tell an inbound message
# from an outbound one: every message write would invoke the notifier and cost a read.
MESSAGE_STREAM_VIEW = "NEW_IMAGE"
MESSAGE_SORT_KEY_PREFIX = "MSG#"  # a message item (functions/dal/store/_common.py)
TENANT_PARTITION_PREFIX = "TENANT#"  # a tenant's profile and conversations
PASSKEY_PARTITION_PREFIX = "PASSKEY#"  # a staff member's passkeys (functions/dal/passkeys.py)
# Lambda event filter (FilterCriteria pattern) of the staff notifier: a message item's
# insert, inbound. The notifier checks the same itself (functions/dal/store/stream.py).
NEW_INBOUND_MESSAGE_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {
        "NewImage": {
            SORT_KEY: {"S": [{"prefix": MESSAGE_SORT_KEY_PREFIX}]},
            "direction": {"S": ["inbound"]},
        }
    },
}

# Lambda event filter of the live notifier: a new message in either direction (a client's
# text, a scheduled send, an automatic or a colleague's reply), so an open thread shows it.
NEW_MESSAGE_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {SORT_KEY: {"S": [{"prefix": MESSAGE_SORT_KEY_PREFIX}]}}},
}

# Lambda event filter of the care pager: the insert of an urgent marker (a crisis text's
# flag) or of an after-hours page request (functions/dal/store/care.py), nothing else. An
# urgent marker written again over a flag is a MODIFY, so it never pages twice.
PAGE_REQUEST_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {SORT_KEY: {"S": [{"prefix": "URGENT#"}, {"prefix": "PAGE#"}]}}},
}


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for boto3 `create_table` equal to what the CDK construct deploys."""
    key_names = {PARTITION_KEY, SORT_KEY}
    for index in GLOBAL_INDEXES:
        key_names |= {index.partition_key, index.sort_key}
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in sorted(key_names)
        ],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": MESSAGE_STREAM_VIEW},
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.partition_key, "KeyType": "HASH"},
                    {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in GLOBAL_INDEXES
        ],
    }


# Automatic rotation period of every customer-managed key, in days (KMS allows 90-2,560).
# The longest: each field has its own data key, so rotation only retires the wrapping key,
# and each of a key's first two rotations adds $1 a month (docs/key-scheme.md, "Rotation").
KEY_ROTATION_DAYS = 2560


def tenant_key_alias(tenant_id: str) -> str:
    """KMS alias of a tenant's customer-managed key (same in CDK and local mode)."""
    return f"alias/quietline/{tenant_id}"


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue with its dead-letter queue, as deployed and as local mode creates it."""

    name: str
    max_receives: int  # deliveries before SQS moves a message to the DLQ
    visibility_seconds: int  # ≥ 6x the consumer's timeout, as AWS advises for Lambda


OUTBOUND_QUEUE = QueueSpec("outbound", max_receives=5, visibility_seconds=120)
RETRY_QUEUE = QueueSpec("retry", max_receives=8, visibility_seconds=180)
QUEUES: tuple[QueueSpec, ...] = (OUTBOUND_QUEUE, RETRY_QUEUE)


@dataclass(frozen=True)
class UserPoolSpec:
    """The staff user pool, as deployed and as local mode creates it in moto."""

    # Custom attributes every user carries; only admins (not the app client) write them.
    custom_attributes: tuple[str, ...] = ("tenant_id", "role")
    password_min_length: int = 14
    # HIPAA automatic logoff: short-lived tokens plus the server-side idle timeout.
    id_token_minutes: int = 15
    access_token_minutes: int = 15
    refresh_token_hours: int = 12


USER_POOL = UserPoolSpec()


# --- the audit log: its own table, so its writer can be limited to creating items --------
# Three kinds of item share a tenant's partition, told apart by their sort-key prefix:
#   E#<at>#<random id>   an event, written once by the request that audited it
#   S#<seq, 12 digits>   a seal link of the tenant's hash chain, written by the sealer
#   M#<event key>        the sealer's marker that an event is sealed (and by which link)
AUDIT_PARTITION_KEY = "pk"  # AUDIT#<tenant>
# The sort key's attribute keeps the name it had when it held sequence numbers: a deployed
# table's key schema cannot change in place.
AUDIT_SORT_KEY = "seq"
AUDIT_TIME_INDEX = "by_time"  # LSI on (pk, at_seq) for exports by time range (events only)
AUDIT_TIME_KEY = "at_seq"
AUDIT_EVENT_PREFIX = "E#"
AUDIT_SEAL_PREFIX = "S#"
AUDIT_MARKER_PREFIX = "M#"
# The sealer seals what the request inserted: the stream carries each new item's image.
AUDIT_STREAM_VIEW = "NEW_IMAGE"
# Which stream records the sealer receives, as a Lambda event-filter pattern: new events
# only (not its own seals and markers, nor TTL deletions). The event source mapping and
# local mode's stream poller both apply this one pattern.
AUDIT_SEALER_FILTER: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"Keys": {AUDIT_SORT_KEY: {"S": [{"prefix": AUDIT_EVENT_PREFIX}]}}},
}


def create_audit_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for boto3 `create_table` equal to what the CDK audit construct deploys."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (AUDIT_PARTITION_KEY, AUDIT_SORT_KEY, AUDIT_TIME_KEY)
        ],
        "KeySchema": [
            {"AttributeName": AUDIT_PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": AUDIT_SORT_KEY, "KeyType": "RANGE"},
        ],
        "LocalSecondaryIndexes": [
            {
                "IndexName": AUDIT_TIME_INDEX,
                "KeySchema": [
                    {"AttributeName": AUDIT_PARTITION_KEY, "KeyType": "HASH"},
                    {"AttributeName": AUDIT_TIME_KEY, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": AUDIT_STREAM_VIEW},
    }
