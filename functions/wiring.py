"""Composition root: builds each service from its adapters once per Lambda instance.

Handlers ask for a service here; tests and local mode replace a port with `override`.
The adapters most handlers share are imported with this module; a service that only some
handlers use is imported by its factory, so a handler loads only what it builds. A
handler whose every request uses such a service imports it itself, at init.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from functions.core.clock import Clock, SystemClock
from functions.core.observability import PowertoolsMetrics
from functions.core.settings import (
    ENV_SECURE_LINK_BASE_URL,
    api_settings,
    audit_settings,
    core_settings,
    messaging_settings,
    retry_queue_url,
    secure_link_base_url,
)
from functions.crypto.envelope import EnvelopeCipher
from functions.dal import aws
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.queue import SqsQueue
from functions.dal.store import MessageStore
from functions.logic.tenants import TenantDirectory

if TYPE_CHECKING:
    from functions.carriers.models import Carrier
    from functions.dal.audit_log import DynamoDbAuditLog
    from functions.dal.notifier import SnsStaffNotifier
    from functions.logic.access import SessionGuard
    from functions.logic.admin import AdminService
    from functions.logic.audit import AuditSink
    from functions.logic.delivery import Sweeper
    from functions.logic.inbound import InboundService
    from functions.logic.inbox import InboxService
    from functions.logic.outbound import OutboundService, SenderService
    from functions.logic.read_watch import ReadVolumeWatch
    from functions.logic.secure_links import SecureLinkService
    from functions.logic.staff_users import StaffAdminService

_overrides: dict[str, Any] = {}


def override(**ports: Any) -> None:
    """Replace ports (carrier, clock, notifier, ...) and drop every cached service."""
    _overrides.update(ports)
    reset()


def reset() -> None:
    for factory in _FACTORIES:
        factory.cache_clear()


@cache
def store() -> MessageStore:
    return _overrides.get("store") or MessageStore.for_table_name(core_settings().table_name)


@cache
def cipher() -> EnvelopeCipher:
    # A whole page (at most 100) decrypts in one KMS wave; the clients' pools match.
    return _overrides.get("cipher") or EnvelopeCipher(
        KmsDataKeyProvider(), max_parallel_decrypts=aws.MAX_PARALLEL_CALLS
    )


@cache
def directory() -> TenantDirectory:
    return TenantDirectory(store(), cipher())


@cache
def clock() -> Clock:
    return _overrides.get("clock") or SystemClock()


@cache
def metrics() -> Any:
    return _overrides.get("metrics") or PowertoolsMetrics()


@cache
def twilio_auth_token() -> str:
    if "twilio_auth_token" in _overrides:
        return str(_overrides["twilio_auth_token"])
    from functions.dal.secrets import get_secret_string  # noqa: PLC0415 - Twilio path only

    secret_id = messaging_settings().twilio_auth_token_secret
    return get_secret_string(secret_id) if secret_id else ""


@cache
def carrier() -> Carrier:
    if "carrier" in _overrides:
        return _overrides["carrier"]  # type: ignore[no-any-return]
    settings = messaging_settings()
    if settings.carrier == "twilio":
        from functions.carriers.twilio import STATUS_WEBHOOK_PATH, TwilioCarrier  # noqa: PLC0415

        return TwilioCarrier(
            settings.twilio_account_sid or "",
            twilio_auth_token(),
            base_url=settings.twilio_api_base_url,
            status_callback_url=(
                settings.public_base_url + STATUS_WEBHOOK_PATH if settings.public_base_url else None
            ),
        )
    from functions.carriers.aws_sms import AwsSmsCarrier  # noqa: PLC0415

    return AwsSmsCarrier(configuration_set=settings.sms_configuration_set)


@cache
def outbound_queue() -> SqsQueue:
    return _overrides.get("outbound_queue") or SqsQueue(messaging_settings().outbound_queue_url)


@cache
def retry_queue() -> SqsQueue:
    return _overrides.get("retry_queue") or SqsQueue(retry_queue_url())


@cache
def notifier() -> SnsStaffNotifier:
    from functions.dal.notifier import SnsStaffNotifier  # noqa: PLC0415

    return _overrides.get("notifier") or SnsStaffNotifier(messaging_settings().staff_topic_arn)


@cache
def inbound_service() -> InboundService:
    from functions.logic.inbound import InboundService  # noqa: PLC0415

    return InboundService(
        directory(), store(), cipher(), outbound_queue(), notifier(), clock(), metrics()
    )


@cache
def outbound_service() -> OutboundService:
    from functions.logic.outbound import OutboundService  # noqa: PLC0415

    return OutboundService(directory(), store(), cipher(), outbound_queue(), clock(), metrics())


@cache
def sender_service() -> SenderService:
    from functions.logic.outbound import SenderService  # noqa: PLC0415

    return SenderService(directory(), store(), cipher(), carrier(), clock(), metrics())


@cache
def sweeper() -> Sweeper:
    from functions.logic.delivery import Sweeper  # noqa: PLC0415

    return Sweeper(store(), outbound_queue(), clock(), metrics())


@cache
def audit_log() -> DynamoDbAuditLog:
    from functions.dal.audit_log import DynamoDbAuditLog  # noqa: PLC0415

    settings = audit_settings()
    return DynamoDbAuditLog(
        aws.dynamodb_table(settings.table_name), retention_days=settings.retention_days
    )


@cache
def audit_sink() -> AuditSink:
    return _overrides.get("audit_sink") or audit_log()


@cache
def session_guard() -> SessionGuard:
    from functions.dal.sessions import SessionStore  # noqa: PLC0415 - API path only
    from functions.logic.access import SessionGuard  # noqa: PLC0415

    sessions = _overrides.get("sessions") or SessionStore(store().table)
    return SessionGuard(sessions, clock(), timedelta(minutes=api_settings().idle_timeout_minutes))


@cache
def read_watch() -> ReadVolumeWatch:
    from functions.dal.sessions import ReadCounterStore  # noqa: PLC0415 - API path only
    from functions.logic.read_watch import ReadVolumeWatch  # noqa: PLC0415

    return ReadVolumeWatch(
        ReadCounterStore(store().table),
        audit_sink(),
        metrics(),
        clock(),
        threshold=api_settings().unusual_reads_per_15_minutes,
    )


@cache
def admin_service() -> AdminService:
    from functions.dal.kms_keys import KmsKeyAdmin  # noqa: PLC0415 - operator path only
    from functions.logic.admin import AdminService  # noqa: PLC0415

    keys = _overrides.get("key_admin") or KmsKeyAdmin()
    return AdminService(store(), cipher(), inbox_service(), keys, audit_sink(), clock())


@cache
def inbox_service() -> InboxService:
    from functions.logic.inbox import InboxService  # noqa: PLC0415

    # Without a public page for clients (the inbox), secure-link sends are refused cleanly.
    links = secure_links if os.environ.get(ENV_SECURE_LINK_BASE_URL) else None
    return InboxService(directory(), store(), cipher(), outbound_service(), clock(), links)


@cache
def secure_links() -> SecureLinkService:
    from functions.dal.secure_links import SecureLinkStore  # noqa: PLC0415
    from functions.logic.secure_links import SecureLinkService  # noqa: PLC0415

    return SecureLinkService(
        SecureLinkStore(store().table),
        store(),
        directory(),
        cipher(),
        outbound_queue(),
        inbound_service(),
        audit_sink(),
        metrics(),
        clock(),
        secure_link_base_url(),
    )


@cache
def staff_admin_service() -> StaffAdminService:
    from functions.dal.users import CognitoUserDirectory  # noqa: PLC0415 - API path only
    from functions.logic.staff_users import StaffAdminService  # noqa: PLC0415

    users = _overrides.get("users") or CognitoUserDirectory(api_settings().user_pool_id)
    return StaffAdminService(users, session_guard())


_FACTORIES = (
    store,
    cipher,
    directory,
    clock,
    metrics,
    carrier,
    outbound_queue,
    retry_queue,
    notifier,
    inbound_service,
    outbound_service,
    sender_service,
    sweeper,
    twilio_auth_token,
    audit_log,
    audit_sink,
    session_guard,
    read_watch,
    admin_service,
    inbox_service,
    secure_links,
    staff_admin_service,
)
