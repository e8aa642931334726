"""DynamoDB data access for tenants, numbers, conversations, messages and templates.

The only package that talks to the Quietline table's messaging items; one record class
per aggregate, composed into one MessageStore. Key scheme (docs/data-model.md):

    TENANT#<tenant>              PROFILE                      tenant profile
    NUMBER#<e164 business no.>   NUMBER                       business number -> tenant
    TENANT#<tenant>              CONV#<conversation>          conversation + its client
    TENANT#<tenant>              TEMPLATE#<template>          message template
    CONV#<tenant>#<conversation> MSG#<message ulid>           message (ULIDs sort by time)
    CARRIER#<carrier>#<id>       CARRIER                      carrier id -> message (idempotency)

Client numbers never appear in a key: conversations are keyed by a blind index.
No request path scans; every read is a GetItem, a BatchGetItem or a Query on a key.
Reads a path makes together are in one place, waves.py (the tenant profile and a
conversation in one BatchGetItem; the staff reads with their session touch).
"""

from __future__ import annotations

from functions.dal.store._common import MAX_PAGE_SIZE
from functions.dal.store.templates import TemplateRecords
from functions.dal.store.waves import StaffReads, WaveRecords

__all__ = ["MAX_PAGE_SIZE", "MessageStore", "StaffReads"]


class MessageStore(WaveRecords, TemplateRecords):
    """Repository over the Quietline table; takes a boto3 Table resource (injected).

    Every record class shares the one table client, so a store is as cheap as before and
    the logic services' narrow ports (functions/logic/ports.py) all fit it.
    """
