"""Every place an encrypted value lives: the one list of KMS encryption contexts and GCM AAD.

A location's four strings are bound into the KMS encryption context and the AES-GCM
associated data of every record sealed there (functions.crypto.envelope.FieldLocation).
They are part of the stored format: renaming one orphans every ciphertext already sealed
under it, so each is spelled once, here, and pinned by tests/unit/test_contexts.py.
"""

from __future__ import annotations

from functions.crypto.envelope import FieldLocation

# The record id of a conversation's contact fields (one per conversation, not per message).
_CONTACT = "contact"


def body_location(tenant_id: str, conversation_id: str, message_id: str) -> FieldLocation:
    """A message's body, as staff wrote or the client texted it (also what a secure link shows)."""
    return FieldLocation(tenant_id, conversation_id, message_id, "body")


def sms_text_location(tenant_id: str, conversation_id: str, message_id: str) -> FieldLocation:
    """The text actually handed to the carrier when it differs from the body (a secure-link
    notice instead of the message)."""
    return FieldLocation(tenant_id, conversation_id, message_id, "sms_text")


def phone_location(tenant_id: str, conversation_id: str) -> FieldLocation:
    """The client's E.164 number."""
    return FieldLocation(tenant_id, conversation_id, _CONTACT, "phone")


def name_location(tenant_id: str, conversation_id: str) -> FieldLocation:
    """The client's display name, if staff gave one."""
    return FieldLocation(tenant_id, conversation_id, _CONTACT, "name")


def index_key_location(tenant_id: str) -> FieldLocation:
    """The tenant's blind-index HMAC key (functions.crypto.blind_index)."""
    return FieldLocation(tenant_id, "-", "tenant", "blind_index_key")


def export_location(tenant_id: str, export_id: str) -> FieldLocation:
    """A sealed FHIR export's bundle (functions.logic.export)."""
    return FieldLocation(tenant_id, "export", export_id, "fhir_bundle")


def voicemail_location(tenant_id: str, conversation_id: str, call_id: str) -> FieldLocation:
    """A voicemail's audio (the S3 object's bytes), bound to its call in its thread."""
    return FieldLocation(tenant_id, conversation_id, call_id, "voicemail_audio")


def transcript_location(tenant_id: str, conversation_id: str, call_id: str) -> FieldLocation:
    """A voicemail's transcript (PHI like a message body), bound to its call in its thread."""
    return FieldLocation(tenant_id, conversation_id, call_id, "voicemail_transcript")


def forwarding_number_location(tenant_id: str, user_id: str) -> FieldLocation:
    """A clinician's own cell, rung for the practice's calls (PHI-grade personal data)."""
    return FieldLocation(tenant_id, "staff", user_id, "forwarding_number")


def push_subscription_location(tenant_id: str, user_id: str, subscription_id: str) -> FieldLocation:
    """A device's Web Push subscription: its endpoint is a capability URL (anyone holding it
    and the keys can push to that device), so it is sealed like PHI."""
    return FieldLocation(tenant_id, "push", f"{user_id}:{subscription_id}", "push_subscription")
