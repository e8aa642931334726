"""Practice-admin operations: wipe (a thread, a whole tenant), retention, export, import.

Every operation is audited in the tenant's chain, with the operator as the actor. The
operator is a Principal with the admin role (the CLI builds one for the AWS identity
running it).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Protocol

from functions.core.clock import Clock, iso
from functions.core.errors import ConflictError, ValidationError
from functions.core.ids import new_id
from functions.core.models import ConsentMode, Conversation, Page, Tenant, TenantStatus
from functions.core.phone import to_e164
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.access import Principal, require_admin
from functions.logic.audit import AuditEvent, AuditSink, Outcome
from functions.logic.export import ThreadExport, fhir_bundle, seal
from functions.logic.inbox import InboxService

MIN_SHRED_DAYS, MAX_SHRED_DAYS = 7, 30  # KMS's pending-window bounds
IMPORT_COLUMNS = ("phone_number", "display_name", "consent_mode", "consent_wording_version")


class TenantKeyAdmin(Protocol):
    def schedule_deletion(self, tenant_id: str, days: int) -> str: ...


class AdminStore(Protocol):
    """What practice administration reads and changes directly (the rest via the inbox)."""

    def get_tenant(self, tenant_id: str) -> Tenant: ...

    def set_tenant_status(self, tenant_id: str, status: TenantStatus) -> None: ...

    def set_tenant_retention(self, tenant_id: str, days: int) -> None: ...

    def list_conversations(
        self, tenant_id: str, *, limit: int, cursor: str | None
    ) -> Page[Conversation]: ...


@dataclass(frozen=True)
class RejectedRow:
    line: int
    field: str
    problem: str  # never the value: it may be PHI


@dataclass
class ImportReport:
    imported: int = 0
    already_present: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)


@dataclass
class AdminService:
    store: AdminStore
    cipher: EnvelopeCipher
    inbox: InboxService
    keys: TenantKeyAdmin
    audit: AuditSink
    clock: Clock

    def _record(self, operator: Principal, action: str, target: dict[str, str]) -> None:
        self.audit.record(
            AuditEvent(
                action,
                Outcome.SUCCESS,
                operator.user_id,
                operator.tenant_id,
                iso(self.clock.now()),
                target=target,
            )
        )

    # --- wipe ---------------------------------------------------------------------------
    def wipe_thread(self, operator: Principal, contact_id: str) -> int:
        """The client's details and every message deleted; the audit chain records the wipe."""
        deleted = self.inbox.delete_contact(operator, contact_id)
        self._record(
            operator, "thread.wipe", {"contact_id": contact_id, "messages_deleted": str(deleted)}
        )
        return deleted

    def wipe_tenant(self, operator: Principal, *, confirmation: str, days: int) -> str:
        """Crypto-shred: refuse the tenant at once, schedule its key's deletion.

        Once the key is gone, every stored record of the tenant is unreadable ciphertext.
        Until the deletion date, `aws kms cancel-key-deletion` undoes it.
        """
        require_admin(operator)
        if confirmation != operator.tenant_id:
            raise ValidationError("confirmation", "type the tenant id exactly to confirm the wipe")
        if not MIN_SHRED_DAYS <= days <= MAX_SHRED_DAYS:
            raise ValidationError("days", f"must be {MIN_SHRED_DAYS} to {MAX_SHRED_DAYS}")
        self.store.set_tenant_status(operator.tenant_id, TenantStatus.WIPED)
        deletion_date = self.keys.schedule_deletion(operator.tenant_id, days)
        self._record(
            operator, "tenant.wipe", {"key_deletion_date": deletion_date, "pending_days": str(days)}
        )
        return deletion_date

    # --- retention ------------------------------------------------------------------------
    def set_retention(self, operator: Principal, days: int) -> None:
        """Applies to messages written from now on (each carries its own expiry)."""
        require_admin(operator)
        if not 1 <= days <= 3650:
            raise ValidationError("days", "must be 1 to 3650")
        before = self.store.get_tenant(operator.tenant_id).retention_days
        self.store.set_tenant_retention(operator.tenant_id, days)
        self._record(
            operator, "tenant.retention_change", {"from_days": str(before), "to_days": str(days)}
        )

    # --- export -------------------------------------------------------------------------
    def export(self, operator: Principal, *, contact_id: str | None = None) -> str:
        """A sealed FHIR bundle of one client's thread, or of every thread of the tenant."""
        require_admin(operator)
        tenant = self.store.get_tenant(operator.tenant_id)
        contact_ids = [contact_id] if contact_id else self._all_conversation_ids(operator.tenant_id)
        threads = [self._thread(operator, cid) for cid in contact_ids]
        export_id = new_id()
        bundle = fhir_bundle(tenant.display_name, threads, exported_at=iso(self.clock.now()))
        sealed = seal(self.cipher, operator.tenant_id, export_id, bundle)
        self._record(
            operator,
            "export.create",
            {"export_id": export_id, "scope": contact_id or "tenant", "threads": str(len(threads))},
        )
        return sealed

    def _all_conversation_ids(self, tenant_id: str) -> list[str]:
        ids, cursor = [], None
        while True:
            page = self.store.list_conversations(tenant_id, limit=100, cursor=cursor)
            ids += [c.conversation_id for c in page.items]
            if not page.cursor:
                return ids
            cursor = page.cursor

    def _thread(self, operator: Principal, contact_id: str) -> ThreadExport:
        contact = self.inbox.get_contact(operator, contact_id)
        messages, cursor = [], None
        while True:
            page = self.inbox.read_thread(operator, contact_id, limit=100, cursor=cursor)
            messages += page.items
            if not page.cursor:
                break
            cursor = page.cursor
        return ThreadExport(contact, list(reversed(messages)))

    # --- import -------------------------------------------------------------------------
    def import_contacts(self, operator: Principal, csv_text: str) -> ImportReport:
        """Good rows are imported, bad rows reported by line; each contact is one atomic write.

        Every row is validated before anything is written, so a file that is wrong in
        shape (missing columns) writes nothing at all.
        """
        require_admin(operator)
        reader = csv.DictReader(io.StringIO(csv_text))
        missing = [c for c in IMPORT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError("csv", f"missing column(s): {', '.join(missing)}")
        report = ImportReport()
        valid: list[tuple[int, dict[str, str]]] = []
        seen: set[str] = set()
        for line, row in enumerate(reader, start=2):
            problem = _row_problem(row, seen, self.inbox.phone_region)
            if problem:
                report.rejected.append(RejectedRow(line, *problem))
            else:
                valid.append((line, row))
        for line, row in valid:
            try:
                self.inbox.create_contact(
                    operator,
                    phone_number=row["phone_number"],
                    display_name=(row.get("display_name") or "").strip() or None,
                    consent_mode=ConsentMode(row["consent_mode"].strip()),
                    wording_version=row["consent_wording_version"].strip(),
                )
                report.imported += 1
            except ConflictError:
                report.already_present += 1
            except ValidationError as error:
                report.rejected.append(RejectedRow(line, error.field, error.problem))
        self._record(
            operator,
            "contact.import",
            {
                "imported": str(report.imported),
                "rejected": str(len(report.rejected)),
                "already_present": str(report.already_present),
            },
        )
        return report


def _row_problem(row: dict[str, str], seen: set[str], region: str) -> tuple[str, str] | None:
    try:
        # As typed in a spreadsheet: national numbers are read in the practice's region.
        phone = to_e164(row.get("phone_number") or "", field="phone_number", default_region=region)
    except ValidationError as error:
        return error.field, error.problem
    if phone in seen:
        return "phone_number", "appears twice in this file"
    seen.add(phone)
    if (row.get("consent_mode") or "").strip() not in {m.value for m in ConsentMode}:
        return "consent_mode", "must be secure_link or plain_sms"
    if not (row.get("consent_wording_version") or "").strip():
        return "consent_wording_version", "is required"
    if len(row.get("display_name") or "") > 100:
        return "display_name", "is longer than 100 characters"
    return None
