"""The composition root: one `Container` per entry point builds every service from its
settings and its AWS target, each on first use, and keeps it for the container's life.

A deployed function builds one from its environment (functions/handlers/_entry.py);
local mode, the CLI, the tests and the bench build their own, passing `Ports` for what
they replace (the carrier, the clock, ...). Nothing here is process-wide: two containers
in one process (local mode and a test, two CLI targets) share no state.

A service that only some handlers use is imported by its factory, so a handler loads
only what it builds (cold start); handlers import at init what every request uses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from functions.core.clock import Clock, SystemClock
from functions.core.errors import NotFoundError
from functions.core.settings import Settings, SettingsError
from functions.crypto.envelope import EnvelopeCipher
from functions.dal import aws
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.dal.queue import SqsQueue
from functions.dal.store import MessageStore, StaffReads
from functions.logic.tenants import TenantDirectory

if TYPE_CHECKING:
    from functions.carriers.chime_voice_aws import S3StagingObjects
    from functions.carriers.models import Carrier
    from functions.dal.audit_log import DynamoDbAuditLog
    from functions.dal.store.calls import CallRecords
    from functions.dal.store.schedules import ScheduleRecords
    from functions.dal.store.transcripts import TranscriptRecords
    from functions.dal.voicemail_store import S3GreetingStore
    from functions.logic.access import SessionGuard
    from functions.logic.admin import AdminService
    from functions.logic.app_lock import AppLockService
    from functions.logic.audit import AuditSink
    from functions.logic.browser_session import BrowserSessions, TokenRefresher
    from functions.logic.care import CareService
    from functions.logic.care_pages import CarePages
    from functions.logic.delivery import Sweeper
    from functions.logic.inbound import InboundService
    from functions.logic.inbox import InboxService
    from functions.logic.live import LivePublisher, LiveService
    from functions.logic.outbound import OutboundService, SenderService
    from functions.logic.pager import PageChannel, Pager
    from functions.logic.passkeys import PasskeyService
    from functions.logic.ports import StaffNotifier
    from functions.logic.read_watch import ReadVolumeWatch
    from functions.logic.reminder_replies import ReminderReplies
    from functions.logic.reminders import AppointmentService
    from functions.logic.scheduling import DueSweep, ScheduleService
    from functions.logic.secure_links import SecureLinkService
    from functions.logic.staff_alerts import StaffAlerts
    from functions.logic.staff_users import StaffAdminService
    from functions.logic.transcription import Transcriber, TranscriptionService, TranscriptReader
    from functions.logic.voice import VoiceService
    from functions.logic.voice_admin import VoiceAdmin
    from functions.logic.voice_ports import VoiceCarrier, VoicemailStore, VoiceNotifier
    from functions.logic.web_push import PushSender, WebPushService

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


class Container:
    """Services for one settings object and one AWS target, built once each."""

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

    def live_service(self) -> LiveService:
        def build() -> LiveService:
            from functions.dal.live import ApiGatewayLivePublisher, DynamoDbLiveRegistry  # noqa: PLC0415
            from functions.logic.live import LiveService  # noqa: PLC0415

            publisher = self.ports.live_publisher or ApiGatewayLivePublisher(
                lambda: self.clients.client_at(
                    "apigatewaymanagementapi", self.settings.need("live_management_url")
                )
            )
            registry = DynamoDbLiveRegistry(self.clients.table(self.settings.need("table_name")))
            return LiveService(registry, publisher, self.clock())

        return self._once("live_service", build)

    def vapid_private_key_pem(self) -> str:
        """The Web Push signing key (Secrets Manager, put there by `quietline push init`);
        only the functions that send pushes may read it."""
        if self.ports.vapid_private_key_pem is not None:
            return self.ports.vapid_private_key_pem
        secret_id = self.settings.need("web_push_vapid_secret")

        def build() -> Any:
            from functions.dal.secrets import CachedSecret  # noqa: PLC0415

            return CachedSecret(self.clients.client("secretsmanager"), secret_id)

        return str(self._once("vapid_secret", build).get())

    def vapid_public_key(self) -> str | None:
        """The key devices subscribe with; None until `quietline push init` has run. Read
        from the secret's tag, so the staff API never holds the private key."""
        if self.ports.vapid_private_key_pem is not None:
            from functions.dal.web_push import vapid_public_key  # noqa: PLC0415

            return vapid_public_key(self.ports.vapid_private_key_pem)
        from functions.dal.secrets import secret_tag  # noqa: PLC0415
        from functions.dal.web_push import VAPID_PUBLIC_KEY_TAG  # noqa: PLC0415

        secret_id = self.settings.need("web_push_vapid_secret")
        return secret_tag(self.clients.client("secretsmanager"), secret_id, VAPID_PUBLIC_KEY_TAG)

    def web_push_service(self) -> WebPushService:
        def build() -> WebPushService:
            from functions.dal.web_push import (  # noqa: PLC0415
                VAPID_SUBJECT,
                DynamoDbPushStore,
                HttpPushSender,
            )
            from functions.logic.web_push import WebPushService  # noqa: PLC0415

            store = DynamoDbPushStore(self.clients.table(self.settings.need("table_name")))
            subject = self.settings.web_push_subject or VAPID_SUBJECT
            sender = self.ports.push_sender or HttpPushSender(self.vapid_private_key_pem, subject)
            return WebPushService(store, self.cipher(), sender)

        return self._once("web_push_service", build)

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

    # --- services -----------------------------------------------------------------
    def staff_alerts(self) -> StaffAlerts:
        def build() -> StaffAlerts:
            from functions.logic.staff_alerts import StaffAlerts  # noqa: PLC0415

            return StaffAlerts(self.directory(), self.notifier(), self.metrics())

        return self._once("staff_alerts", build)

    def inbound_service(self) -> InboundService:
        def build() -> InboundService:
            from functions.logic.inbound import InboundService  # noqa: PLC0415

            return InboundService(
                self.directory(),
                self.store(),
                self.cipher(),
                self.outbound_queue(),
                self.clock(),
                self.metrics(),
                care=self.care_service(),
                after_stored=self.reminder_replies().after_inbound,
            )

        return self._once("inbound_service", build)

    def outbound_service(self) -> OutboundService:
        def build() -> OutboundService:
            from functions.logic.outbound import OutboundService  # noqa: PLC0415

            return OutboundService(
                self.directory(),
                self.store(),
                self.cipher(),
                self.outbound_queue(),
                self.clock(),
                self.metrics(),
            )

        return self._once("outbound_service", build)

    def sender_service(self) -> SenderService:
        def build() -> SenderService:
            from functions.logic.outbound import SenderService  # noqa: PLC0415

            return SenderService(
                self.directory(),
                self.store(),
                self.cipher(),
                self.carrier(),
                self.clock(),
                self.metrics(),
            )

        return self._once("sender_service", build)

    def sweeper(self) -> Sweeper:
        def build() -> Sweeper:
            from functions.logic.delivery import Sweeper  # noqa: PLC0415

            return Sweeper(self.store(), self.outbound_queue(), self.clock(), self.metrics())

        return self._once("sweeper", build)

    # --- scheduled messages and reminders (functions/logic/scheduling.py, reminders.py) ---
    def schedule_store(self) -> ScheduleRecords:
        from functions.dal.store.schedules import ScheduleRecords  # noqa: PLC0415

        return self._once("schedule_store", lambda: ScheduleRecords(self.store().table))

    def schedule_service(self) -> ScheduleService:
        def build() -> ScheduleService:
            from functions.logic.scheduling import ScheduleService  # noqa: PLC0415

            return ScheduleService(
                self.directory(),
                self.schedule_store(),
                self.cipher(),
                self.clock(),
                self.staff_reads(),
            )

        return self._once("schedule_service", build)

    def due_sweep(self) -> DueSweep:
        def build() -> DueSweep:
            from functions.logic.scheduling import DueSweep  # noqa: PLC0415

            links = self.secure_links if self.settings.secure_link_base_url else None
            return DueSweep(
                self.directory(),
                self.schedule_store(),
                self.cipher(),
                self.outbound_queue(),
                self.ports.scheduler_clock or self.clock(),
                self.metrics(),
                secure_links=links,
            )

        return self._once("due_sweep", build)

    def appointment_service(self) -> AppointmentService:
        def build() -> AppointmentService:
            from functions.dal.calendar_feed import CalendarFeedFetcher  # noqa: PLC0415
            from functions.logic.reminders import AppointmentService  # noqa: PLC0415

            store = self.schedule_store()
            directory = self.directory()

            def conversation_for_number(tenant: Any, number: str) -> str | None:
                conversation_id = directory.conversation_id_for(tenant, number)
                try:
                    store.get_conversation(tenant.tenant_id, conversation_id)
                except NotFoundError:
                    return None
                return conversation_id

            # Local mode's tests serve a feed on 127.0.0.1; a deployment never may.
            feeds = CalendarFeedFetcher(allow_local_http=self.settings.stage == "local")
            return AppointmentService(
                directory,
                store,
                self.cipher(),
                self.clock(),
                conversation_for_number,
                fetch_feed=feeds.fetch,
            )

        return self._once("appointment_service", build)

    def reminder_replies(self) -> ReminderReplies:
        def build() -> ReminderReplies:
            from functions.logic.reminder_replies import ReminderReplies  # noqa: PLC0415

            return ReminderReplies(
                self.schedule_store(),
                self.cipher(),
                self.outbound_queue(),
                self.clock(),
                self.metrics(),
            )

        return self._once("reminder_replies", build)

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

    def browser_sessions(self) -> BrowserSessions:
        def build() -> BrowserSessions:
            from functions.dal.token_refresh import CognitoTokenRefresher  # noqa: PLC0415
            from functions.logic.browser_session import BrowserSessions  # noqa: PLC0415

            refresher = self.ports.token_refresher or CognitoTokenRefresher(
                self.clients.client("cognito-idp"), self.settings.need("user_pool_client_id")
            )
            return BrowserSessions(refresher, self.session_guard())

        return self._once("browser_sessions", build)

    def app_lock(self) -> AppLockService:
        def build() -> AppLockService:
            from functions.dal.app_lock import AppLockStore  # noqa: PLC0415 - API path only
            from functions.logic.app_lock import AppLockService  # noqa: PLC0415

            store = AppLockStore(self.store().table)
            return AppLockService(
                store,
                self.staff_admin_service(),
                self.audit_sink(),
                self.clock(),
                self.session_guard(),
            )

        return self._once("app_lock", build)

    def passkeys(self) -> PasskeyService:
        def build() -> PasskeyService:
            from functions.dal.passkeys import PasskeyStore  # noqa: PLC0415 - API path only
            from functions.logic.passkeys import PasskeyService  # noqa: PLC0415

            return PasskeyService(
                PasskeyStore(self.store().table),
                self.audit_sink(),
                self.clock(),
                self.session_guard(),
            )

        return self._once("passkeys", build)

    def staff_reads(self) -> StaffReads:
        """The staff API's first reads, sent with the session touch (one round trip)."""
        return self._once("staff_reads", lambda: StaffReads(self.store(), self.sessions()))

    def read_watch(self) -> ReadVolumeWatch:
        def build() -> ReadVolumeWatch:
            from functions.dal.sessions import ReadCounterStore  # noqa: PLC0415 - API path only
            from functions.logic.read_watch import ReadVolumeWatch  # noqa: PLC0415

            return ReadVolumeWatch(
                ReadCounterStore(self.store().table),
                self.audit_sink(),
                self.metrics(),
                self.clock(),
                threshold=self.settings.unusual_reads_per_15_minutes,
            )

        return self._once("read_watch", build)

    def inbox_service(self) -> InboxService:
        def build() -> InboxService:
            from functions.logic.inbox import InboxService  # noqa: PLC0415

            # Without a public page for clients (the inbox), secure-link sends are refused.
            links = self.secure_links if self.settings.secure_link_base_url else None
            return InboxService(
                directory=self.directory(),
                store=self.store(),
                reads=self.staff_reads(),
                cipher=self.cipher(),
                outbound=self.outbound_service(),
                clock=self.clock(),
                secure_links=links,
                phone_region=self.settings.phone_region,
                staff=self.staff_directory,
            )

        return self._once("inbox_service", build)

    def secure_links(self) -> SecureLinkService:
        def build() -> SecureLinkService:
            from functions.dal.secure_links import SecureLinkStore  # noqa: PLC0415
            from functions.logic.secure_links import SecureLinkService  # noqa: PLC0415

            return SecureLinkService(
                SecureLinkStore(self.store().table),
                self.store(),
                self.directory(),
                self.cipher(),
                self.outbound_queue(),
                self.inbound_service(),
                self.audit_sink(),
                self.metrics(),
                self.clock(),
                self.settings.need("secure_link_base_url"),
            )

        return self._once("secure_links", build)

    def admin_service(self) -> AdminService:
        def build() -> AdminService:
            from functions.dal.kms_keys import KmsKeyAdmin  # noqa: PLC0415 - operator path
            from functions.logic.admin import AdminService  # noqa: PLC0415

            keys = self.ports.key_admin or KmsKeyAdmin(self.clients.client("kms"))
            return AdminService(
                self.store(),
                self.cipher(),
                self.inbox_service(),
                keys,
                self.audit_sink(),
                self.clock(),
            )

        return self._once("admin_service", build)

    def staff_directory(self) -> Any:
        def build() -> Any:
            from functions.dal.users import CognitoUserDirectory  # noqa: PLC0415 - API only

            return self.ports.users or CognitoUserDirectory(
                self.settings.need("user_pool_id"), self.clients.client("cognito-idp")
            )

        return self._once("staff_directory", build)

    def staff_admin_service(self) -> StaffAdminService:
        def build() -> StaffAdminService:
            from functions.logic.staff_users import StaffAdminService  # noqa: PLC0415

            return StaffAdminService(self.staff_directory(), self.session_guard())

        return self._once("staff_admin_service", build)

    # --- voice ----------------------------------------------------------------------
    def voice_carrier(self) -> VoiceCarrier:
        """The voice adapter for `settings.carrier`; each adapter adds its branch here."""
        if self.ports.voice_carrier is not None:
            return self.ports.voice_carrier
        if self.settings.carrier == "twilio":
            return self._once("voice_carrier", self._twilio_voice_carrier)
        if self.settings.carrier == "aws":
            return self._once("voice_carrier", self._chime_voice_carrier)
        raise SettingsError(f"QUIETLINE_CARRIER: no voice adapter for {self.settings.carrier!r}")

    def _twilio_voice_carrier(self) -> VoiceCarrier:
        from functions.carriers.twilio_voice import TwilioVoiceCarrier  # noqa: PLC0415

        settings = self.settings
        return TwilioVoiceCarrier(
            settings.need("twilio_account_sid"),
            self.twilio_auth_token(),
            api_base_url=settings.twilio_api_base_url,
            webhook_base_url=settings.public_base_url,
        )

    def _chime_voice_carrier(self) -> VoiceCarrier:
        from functions.carriers.chime_voice_aws import ChimeVoiceCarrier  # noqa: PLC0415

        return ChimeVoiceCarrier(
            self.clients.client("chime-sdk-voice"),
            self.settings.need("chime_sip_media_application_id"),
            self.voice_staging(),
        )

    def voice_staging(self) -> S3StagingObjects:
        """Chime RecordAudio's staging bucket (docs/voice.md, "AWS (Chime SDK)")."""
        from functions.carriers.chime_voice_aws import S3StagingObjects  # noqa: PLC0415

        return self._once(
            "voice_staging",
            lambda: S3StagingObjects(
                self.settings.need("voice_staging_bucket"), self.clients.client("s3")
            ),
        )

    def voicemail_store(self) -> VoicemailStore:
        def build() -> VoicemailStore:
            if self.ports.voicemail_store is not None:
                return self.ports.voicemail_store
            from functions.dal.voicemail_store import S3VoicemailStore  # noqa: PLC0415

            bucket = self.settings.need("voicemail_bucket")
            return S3VoicemailStore(bucket, self.clients.client("s3"))

        return self._once("voicemail_store", build)

    def greeting_store(self) -> S3GreetingStore | None:
        """The practice's greeting recordings; None where no voicemail bucket is set."""
        if not self.settings.voicemail_bucket:
            return None
        from functions.dal.voicemail_store import S3GreetingStore  # noqa: PLC0415

        bucket = self.settings.voicemail_bucket
        return self._once(
            "greeting_store",
            lambda: S3GreetingStore(bucket, self.clients.client("s3"), self.clients.s3_presigner()),
        )

    def voice_notifier(self) -> VoiceNotifier:
        def build() -> VoiceNotifier:
            if self.ports.voice_notifier is not None:
                return self.ports.voice_notifier
            from functions.dal.voice_notifier import SnsVoiceNotifier  # noqa: PLC0415

            topic = self.settings.staff_topic_arn or ""
            return SnsVoiceNotifier(topic, self.clients.client("sns"))

        return self._once("voice_notifier", build)

    def call_store(self) -> CallRecords:
        from functions.dal.store.calls import CallRecords  # noqa: PLC0415

        return self._once(
            "call_store", lambda: CallRecords(self.clients.table(self.settings.need("table_name")))
        )

    def voice_service(self) -> VoiceService:
        def build() -> VoiceService:
            from functions.logic.voice import VoiceService  # noqa: PLC0415

            calls = self.call_store()
            return VoiceService(
                directory=self.directory(),
                store=self.store(),
                calls=calls,
                settings=calls,
                voicemails=self.voicemail_store(),
                carrier=self.voice_carrier(),
                cipher=self.cipher(),
                outbound=self.outbound_service(),
                notifier=self.voice_notifier(),
                audit=self.audit_sink(),
                clock=self.clock(),
                metrics=self.metrics(),
                # Without a user pool (a call-control Lambda not given one) rings are
                # unchecked and settings updates refused (docs/voice.md, "Core").
                staff=self.staff_directory
                if self.ports.users is not None or self.settings.user_pool_id
                else None,
                voice_only_numbers=frozenset(self.settings.voice_only_numbers),
                on_call=self.care_service().on_call_for_call,
                transcription=self.transcription_service() if self.transcribes else None,
            )

        return self._once("voice_service", build)

    @property
    def transcribes(self) -> bool:
        """Whether this deployment can transcribe voicemail (a practice still opts in)."""
        return self.ports.transcriber is not None or bool(self.settings.transcription_bucket)

    def transcription_service(self) -> TranscriptionService:
        def build() -> TranscriptionService:
            from functions.logic.transcription import TranscriptionService  # noqa: PLC0415

            calls = self.call_store()
            return TranscriptionService(
                calls=calls,
                settings=calls,
                voicemails=self.voicemail_store(),
                transcripts=self.transcript_store(),
                transcriber=self.ports.transcriber or self._aws_transcriber(),
                cipher=self.cipher(),
                audit=self.audit_sink(),
                clock=self.clock(),
                metrics=self.metrics(),
            )

        return self._once("transcription_service", build)

    def transcript_store(self) -> TranscriptRecords:
        from functions.dal.store.transcripts import TranscriptRecords  # noqa: PLC0415

        return self._once(
            "transcript_store",
            lambda: TranscriptRecords(self.clients.table(self.settings.need("table_name"))),
        )

    def transcript_reader(self) -> TranscriptReader:
        from functions.logic.transcription import TranscriptReader  # noqa: PLC0415

        return self._once(
            "transcript_reader",
            lambda: TranscriptReader(
                self.directory(), self.store(), self.transcript_store(), self.cipher()
            ),
        )

    def _aws_transcriber(self) -> Transcriber:
        from functions.dal.transcriber import AwsTranscriber  # noqa: PLC0415

        return AwsTranscriber(
            self.settings.need("transcription_bucket"),
            self.settings.need("transcription_kms_key_id"),
            self.clients.client("s3"),
            self.clients.client("transcribe"),
        )

    def voice_admin(self) -> VoiceAdmin:
        def build() -> VoiceAdmin:
            from functions.logic.voice_admin import VoiceAdmin  # noqa: PLC0415

            return VoiceAdmin(
                settings=self.call_store(),
                cipher=self.cipher(),
                staff=self.staff_directory
                if self.ports.users is not None or self.settings.user_pool_id
                else None,
                greetings=self.greeting_store(),
                transcription_available=self.transcribes,
            )

        return self._once("voice_admin", build)

    # --- after-hours care (functions/logic/care.py) -------------------------------------
    def _staff_if_configured(self) -> Any:
        return self.staff_directory if self.ports.users or self.settings.user_pool_id else None

    def pager(self) -> Pager:
        """E-mail (the staff topic) and SMS to the clinician's cell; Web Push appends here."""

        def build() -> Pager:
            from functions.dal.pager import SnsEmailPager  # noqa: PLC0415
            from functions.logic.pager import CellPager, Pager  # noqa: PLC0415

            channels = self.ports.page_channels
            if channels is None:
                topic = self.settings.staff_topic_arn or ""
                channels = (
                    SnsEmailPager(topic, self.clients.client("sns")),
                    CellPager(self.call_store(), self.cipher(), self.carrier, self.clock()),
                )
            return Pager(channels, self.metrics())

        return self._once("pager", build)

    def care_service(self) -> CareService:
        def build() -> CareService:
            from functions.dal.store.care import CareRecords  # noqa: PLC0415
            from functions.logic.care import CareService  # noqa: PLC0415

            return CareService(
                CareRecords(self.store().table),
                self._staff_if_configured(),
                self.pager,
                self.audit_sink,
                self.clock(),
                self.metrics(),
            )

        return self._once("care_service", build)

    def care_pages(self) -> CarePages:
        """The care pager's service (functions/handlers/care_pager.py), fed by the stream."""

        def build() -> CarePages:
            from functions.dal.store.page_ledger import PageLedger  # noqa: PLC0415
            from functions.logic.care_pages import CarePages  # noqa: PLC0415

            store = self.store()
            return CarePages(
                self.care_service(),
                self.directory(),
                store,
                PageLedger(store.table),
                self.clock(),
                self.metrics(),
            )

        return self._once("care_pages", build)
