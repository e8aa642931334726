"""Record export: a client's thread or a whole tenant as a FHIR R4 Bundle of Communication
resources, encrypted for the practice under its own KMS key.

The file is JSON: a header naming the format, tenant and export id, and the bundle as an
envelope-encrypted record (AES-256-GCM, data key wrapped by the tenant's key with the
export's encryption context). Anyone the practice lets use that key can open it with
`quietline export open`; nobody else can, including whoever carries the file.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from functions.core.errors import MalformedRecordError
from functions.core.models import Direction, MessageStatus
from functions.crypto.contexts import export_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.inbox import ContactView, MessageView

FORMAT = "quietline-export"
VERSION = 1


@dataclass(frozen=True)
class ThreadExport:
    contact: ContactView
    messages: list[MessageView]  # oldest first


def _status(message: MessageView) -> str:
    if message.status == MessageStatus.FAILED.value:
        return "not-done"
    if message.status in (MessageStatus.QUEUED.value, MessageStatus.SENT.value):
        return "in-progress"
    return "completed"


def fhir_bundle(
    practice_name: str, threads: Iterable[ThreadExport], *, exported_at: str
) -> dict[str, Any]:
    """A FHIR R4 `collection` Bundle: one Patient per client, one Communication per text."""
    entries: list[dict[str, Any]] = []
    for thread in threads:
        patient_id = thread.contact.contact_id
        patient: dict[str, Any] = {
            "resourceType": "Patient",
            "id": patient_id,
            "telecom": [{"system": "sms", "value": thread.contact.phone_number}],
        }
        if thread.contact.display_name:
            patient["name"] = [{"text": thread.contact.display_name}]
        entries.append({"fullUrl": f"urn:uuid:patient-{patient_id}", "resource": patient})
        for message in thread.messages:
            from_client = message.direction == Direction.INBOUND.value
            client = {"reference": f"urn:uuid:patient-{patient_id}"}
            practice = {"display": practice_name}
            entries.append(
                {
                    "fullUrl": f"urn:uuid:message-{message.message_id}",
                    "resource": {
                        "resourceType": "Communication",
                        "id": message.message_id,
                        "identifier": [
                            {"system": "urn:quietline:message", "value": message.message_id}
                        ],
                        "status": _status(message),
                        "medium": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode",
                                        "code": "SMSWRIT",
                                    }
                                ]
                            }
                        ],
                        "subject": client,
                        "sender": client if from_client else practice,
                        "recipient": [practice if from_client else client],
                        "sent": message.created_at,
                        "payload": [{"contentString": message.body}],
                    },
                }
            )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": exported_at,
        "entry": entries,
    }


def seal(cipher: EnvelopeCipher, tenant_id: str, export_id: str, bundle: dict[str, Any]) -> str:
    record = cipher.encrypt(
        export_location(tenant_id, export_id), json.dumps(bundle, separators=(",", ":"))
    )
    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "tenant_id": tenant_id,
            "export_id": export_id,
            "content_type": "application/fhir+json",
            "record": base64.b64encode(record.to_bytes()).decode(),
        },
        indent=2,
    )


def open_sealed(cipher: EnvelopeCipher, text: str) -> dict[str, Any]:
    """Decrypt an export file; MalformedRecordError if it is not one, DecryptionError if altered."""
    try:
        header = json.loads(text)
        if header.get("format") != FORMAT or header.get("version") != VERSION:
            raise MalformedRecordError("not a Quietline export")
        location = export_location(str(header["tenant_id"]), str(header["export_id"]))
        record = base64.b64decode(header["record"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise MalformedRecordError("not a Quietline export") from None
    bundle: dict[str, Any] = json.loads(cipher.decrypt(location, record))
    return bundle
