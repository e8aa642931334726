"""Tenant provisioning and lookup: business number -> tenant, tenant -> blind-index key."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from functions.core.errors import NotFoundError, TenantUnavailableError
from functions.core.models import Tenant, TenantStatus
from functions.crypto.blind_index import INDEX_KEY_BYTES, contact_phone_index
from functions.crypto.contexts import index_key_location
from functions.crypto.envelope import EnvelopeCipher
from functions.logic.ports import Outcome


class TenantRepository(Protocol):
    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def put_tenant(self, tenant: Tenant) -> None: ...
    def update_tenant_profile(self, tenant: Tenant) -> None: ...
    def assign_business_number(self, number: str, tenant_id: str) -> None: ...
    def tenant_id_for_number(self, number: str) -> str: ...


class _Read:
    """A read made when asked for (an `Outcome` of a single call)."""

    def __init__(self, read: Callable[[], Tenant]) -> None:
        self._read = read

    def get(self) -> Tenant:
        return self._read()


@dataclass(frozen=True)
class TenantSpec:
    tenant_id: str
    display_name: str
    support_contact: str
    retention_days: int
    business_numbers: tuple[str, ...]


def provision_tenant(spec: TenantSpec, repo: TenantRepository, cipher: EnvelopeCipher) -> Tenant:
    """Create the tenant (with a fresh blind-index key) or refresh its profile; idempotent."""
    try:
        existing = repo.get_tenant(spec.tenant_id)
    except NotFoundError:
        index_key = os.urandom(INDEX_KEY_BYTES)
        record = cipher.encrypt(index_key_location(spec.tenant_id), index_key.hex())
        tenant = Tenant(
            spec.tenant_id,
            spec.display_name,
            spec.support_contact,
            spec.retention_days,
            index_key_record=record.to_bytes(),
            business_numbers=spec.business_numbers,
        )
        repo.put_tenant(tenant)
    else:
        tenant = replace(
            existing,
            display_name=spec.display_name,
            support_contact=spec.support_contact,
            retention_days=spec.retention_days,
            business_numbers=spec.business_numbers,
        )
        repo.update_tenant_profile(tenant)
    for number in spec.business_numbers:
        repo.assign_business_number(number, spec.tenant_id)
    return tenant


class TenantDirectory:
    """Per-process cache of tenants and their unwrapped index keys (one KMS call each).

    Lambda instances are short-lived; a wiped tenant's key is unusable at KMS at once,
    and `forget` lets a caller drop a tenant the moment it learns of a wipe.
    """

    def __init__(self, repo: TenantRepository, cipher: EnvelopeCipher) -> None:
        self._repo = repo
        self._cipher = cipher
        self._tenant_by_number: dict[str, str] = {}
        self._index_keys: dict[str, bytes] = {}

    def tenant_for_number(self, business_number: str) -> str:
        if business_number not in self._tenant_by_number:
            try:
                self._tenant_by_number[business_number] = self._repo.tenant_id_for_number(
                    business_number
                )
            except NotFoundError:
                raise TenantUnavailableError("business number is not assigned") from None
        return self._tenant_by_number[business_number]

    def active_tenant(self, tenant_id: str) -> Tenant:
        return self.admit(_Read(lambda: self._repo.get_tenant(tenant_id)))

    def admit(self, read: Outcome[Tenant]) -> Tenant:
        """The profile a read returned, if the tenant may be served; TenantUnavailableError
        if it is unknown or wiped (the read's other errors as they are)."""
        try:
            tenant = read.get()
        except NotFoundError:
            raise TenantUnavailableError("tenant not found") from None
        if tenant.status is not TenantStatus.ACTIVE:
            self.forget(tenant.tenant_id)
            raise TenantUnavailableError("tenant was wiped")
        return tenant

    def known_conversation_id(self, tenant_id: str, phone_e164: str) -> str | None:
        """The conversation id without any I/O, if this instance holds the index key already.

        Lets a caller read the conversation while the tenant profile is still being read.
        """
        key = self._index_keys.get(tenant_id)
        return contact_phone_index(key, phone_e164) if key is not None else None

    def conversation_id_for(self, tenant: Tenant, phone_e164: str) -> str:
        """The conversation (and contact) id of a client number: its blind index."""
        key = self._index_keys.get(tenant.tenant_id)
        if key is None:
            hex_key = self._cipher.decrypt(
                index_key_location(tenant.tenant_id), tenant.index_key_record
            )
            key = self._index_keys[tenant.tenant_id] = bytes.fromhex(hex_key)
        return contact_phone_index(key, phone_e164)

    def forget(self, tenant_id: str) -> None:
        self._index_keys.pop(tenant_id, None)
        for number in [n for n, t in self._tenant_by_number.items() if t == tenant_id]:
            del self._tenant_by_number[number]
