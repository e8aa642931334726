"""The composition root's foundation: `Ports` (what a caller supplies instead of the
deployed adapters) and `ContainerBase` (the settings, the AWS clients, build-once, and the
adapters every capability is built from). The capabilities' factories live beside it
(voice.py, care.py) and `functions.container.Container` joins them; see its docstring.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from functions.core.clock import Clock, SystemClock
from functions.core.settings import Settings
from functions.crypto.envelope import EnvelopeCipher
from functions.dal import aws
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.queue import SqsQueue
from functions.dal.store import MessageStore, StaffReads
from functions.logic.tenants import TenantDirectory

if TYPE_CHECKING:
    from functions.carriers.models import Carrier
    from functions.dal.audit_log import DynamoDbAuditLog
    from functions.logic.access import SessionGuard
    from functions.logic.audit import AuditSink
    from functions.logic.browser_session import TokenRefresher
    from functions.logic.live import LivePublisher
    from functions.logic.pager import PageChannel
    from functions.logic.ports import StaffNotifier
    from functions.logic.transcription import Transcriber
    from functions.logic.voice_ports import VoiceCarrier, VoicemailStore, VoiceNotifier
    from functions.logic.web_push import PushSender

T = TypeVar("T")


@dataclass(frozen=True)
class Ports:
    """Adapters a caller supplies instead of the deployed ones; None builds the default."""

    carrier: Carrier | None = None
    clock: Clock | None = None
    metrics: Any = None
    notifier: StaffNotifier | None = None
    twilio_auth_token: str | None = None
    users: Any = None  # the staff directory (Cognito)
    key_admin: Any = None  # KMS key lifecycle (crypto-shred)
    sessions: Any = None  # the sign-in session store
    audit_sink: AuditSink | None = None
    cipher: EnvelopeCipher | None = None
    voice_carrier: VoiceCarrier | None = None
    voicemail_store: VoicemailStore | None = None
    voice_notifier: VoiceNotifier | None = None
    page_channels: tuple[PageChannel, ...] | None = None  # replaces e-mail + SMS pages
    transcriber: Transcriber | None = None
    live_publisher: LivePublisher | None = None  # local mode's in-process sockets
    vapid_private_key_pem: str | None = None  # Web Push signing key (local mode's own)
    push_sender: PushSender | None = None
    # The schedule sweep's clock alone (local mode advances it to fire schedules).
    scheduler_clock: Clock | None = None
    token_refresher: TokenRefresher | None = None  # Cognito's REFRESH_TOKEN_AUTH


class ContainerBase:
    """Settings, clients and build-once, and the adapters every capability shares."""

    def __init__(
        self,
        settings: Settings,
        *,
        clients: aws.AwsClients | None = None,
        ports: Ports | None = None,
    ) -> None:
        self.settings = settings
        self.clients = clients or aws.AwsClients()
        self.ports = ports or Ports()
        self._built: dict[str, Any] = {}
        # Re-entrant: a service's factory asks for the services it is built from.
        self._lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            found: T = self._built[name]
            return found

    # --- adapters -----------------------------------------------------------------
    def store(self) -> MessageStore:
        return self._once(
            "store", lambda: MessageStore(self.clients.table(self.settings.need("table_name")))
        )

    def cipher(self) -> EnvelopeCipher:
        # A whole page (at most 100) decrypts in one KMS wave; the clients' pools match.
        return self._once(
            "cipher",
            lambda: (
                self.ports.cipher
                or EnvelopeCipher(
                    KmsDataKeyProvider(self.clients.client("kms")),
                    max_parallel_decrypts=aws.MAX_PARALLEL_CALLS,
                )
            ),
        )

    def directory(self) -> TenantDirectory:
        return self._once("directory", lambda: TenantDirectory(self.store(), self.cipher()))

    def clock(self) -> Clock:
        return self._once("clock", lambda: self.ports.clock or SystemClock())

    def metrics(self) -> Any:
        def build() -> Any:
            from functions.core.observability import PowertoolsMetrics  # noqa: PLC0415

            return self.ports.metrics or PowertoolsMetrics()

        return self._once("metrics", build)

    def twilio_auth_token(self) -> str:
        """Read per request (a rotated token is picked up within the secret's TTL)."""
        if self.ports.twilio_auth_token is not None:
            return self.ports.twilio_auth_token
        secret_id = self.settings.twilio_auth_token_secret
        if not secret_id:
            return ""

        def build() -> Any:
            from functions.dal.secrets import CachedSecret  # noqa: PLC0415 - Twilio path only

            return CachedSecret(self.clients.client("secretsmanager"), secret_id)

        return str(self._once("twilio_secret", build).get())

    def carrier(self) -> Carrier:
        def build() -> Carrier:
            if self.ports.carrier is not None:
                return self.ports.carrier
            settings = self.settings
            if settings.carrier == "twilio":
                from functions.carriers.twilio import (  # noqa: PLC0415
                    STATUS_WEBHOOK_PATH,
                    TwilioCarrier,
                )

                base = settings.public_base_url
                return TwilioCarrier(
                    settings.twilio_account_sid or "",
                    self.twilio_auth_token(),
                    base_url=settings.twilio_api_base_url,
                    status_callback_url=base + STATUS_WEBHOOK_PATH if base else None,
                )
            from functions.carriers.aws_sms import SERVICE, AwsSmsCarrier  # noqa: PLC0415

            return AwsSmsCarrier(
                self.clients.client(SERVICE), configuration_set=settings.sms_configuration_set
            )

        return self._once("carrier", build)

    def outbound_queue(self) -> SqsQueue:
        return self._once(
            "outbound_queue",
            lambda: SqsQueue(self.settings.need("outbound_queue_url"), self.clients.client("sqs")),
        )

    def retry_queue(self) -> SqsQueue:
        return self._once(
            "retry_queue",
            lambda: SqsQueue(self.settings.need("retry_queue_url"), self.clients.client("sqs")),
        )

    def notifier(self) -> StaffNotifier:
        def build() -> StaffNotifier:
            if self.ports.notifier is not None:
                return self.ports.notifier
            from functions.dal.notifier import SnsStaffNotifier  # noqa: PLC0415

            topic = self.settings.staff_topic_arn or ""
            return SnsStaffNotifier(topic, self.clients.client("sns"))

        return self._once("notifier", build)

    def audit_log(self) -> DynamoDbAuditLog:
        def build() -> DynamoDbAuditLog:
            from functions.dal.audit_log import DynamoDbAuditLog  # noqa: PLC0415

            return DynamoDbAuditLog(
                self.clients.table(self.settings.need("audit_table_name")),
                retention_days=self.settings.audit_retention_days,
            )

        return self._once("audit_log", build)

    def audit_sink(self) -> AuditSink:
        return self.ports.audit_sink or self.audit_log()

    # --- staff and their sessions -------------------------------------------------
    def staff_directory(self) -> Any:
        def build() -> Any:
            from functions.dal.users import CognitoUserDirectory  # noqa: PLC0415 - API only

            return self.ports.users or CognitoUserDirectory(
                self.settings.need("user_pool_id"), self.clients.client("cognito-idp")
            )

        return self._once("staff_directory", build)

    def staff_if_configured(self) -> Callable[[], Any] | None:
        """The staff directory's factory, or None where no user pool is set (a function not
        given one: rings unchecked, settings updates refused; docs/voice.md, "Core")."""
        configured = self.ports.users is not None or self.settings.user_pool_id
        return self.staff_directory if configured else None

    def sessions(self) -> Any:
        def build() -> Any:
            from functions.dal.sessions import SessionStore  # noqa: PLC0415 - API path only

            return self.ports.sessions or SessionStore(self.store().table)

        return self._once("sessions", build)

    def session_guard(self) -> SessionGuard:
        def build() -> SessionGuard:
            from functions.logic.access import SessionGuard  # noqa: PLC0415

            idle = timedelta(minutes=self.settings.idle_timeout_minutes)
            return SessionGuard(self.sessions(), self.clock(), idle)

        return self._once("session_guard", build)

    def staff_reads(self) -> StaffReads:
        """The staff API's first reads, sent with the session touch (one round trip)."""
        return self._once("staff_reads", lambda: StaffReads(self.store(), self.sessions()))
