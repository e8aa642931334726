"""The audit interface every PHI access calls: who, tenant, action, ids, request, outcome.

Events never carry a message body, a name or a phone number: targets are ids only. The
sink behind this port appends each event on its own (functions/dal/audit_log.py); the
tenant's hash chain is sealed afterwards, off the request path
(functions/logic/audit_seal.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"  # 401/403: failed authorization is audited too
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    ERROR = "error"


@dataclass(frozen=True)
class AuditEvent:
    action: str  # e.g. "message.read", "message.send", "contact.create"
    outcome: Outcome
    actor: str  # user id, or a function name for system actions
    tenant_id: str
    at: str
    request_id: str = ""
    source_ip: str = ""
    target: dict[str, str] = field(default_factory=dict)  # ids only


class AuditSink(Protocol):
    def record(self, event: AuditEvent) -> None: ...
