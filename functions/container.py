"""The composition root: one `Container` per entry point builds every service from its
settings and its AWS target, each on first use, and keeps it for the container's life.

A deployed function builds one from its environment (functions/handlers/_entry.py);
local mode, the CLI, the tests and the bench build their own, passing `Ports` for what
they replace (the carrier, the clock, ...). Nothing here is process-wide: two containers
in one process (local mode and a test, two CLI targets) share no state.

A service that only some handlers use is imported by its factory, so a handler loads
only what it builds (cold start); handlers import at init what every request uses.

The factories are grouped by capability: the shared adapters in
functions/composition/base.py, voice in voice.py, scheduling and after-hours care in
care.py, and here messaging, the staff API's services, live updates and Web Push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from functions.composition.base import Ports
from functions.composition.care import CareFactories
from functions.composition.voice import VoiceFactories

if TYPE_CHECKING:
    from functions.logic.admin import AdminService
    from functions.logic.app_lock import AppLockService
    from functions.logic.browser_session import BrowserSessions
    from functions.logic.delivery import Sweeper
    from functions.logic.inbound import InboundService
    from functions.logic.inbox import InboxService
    from functions.logic.live import LiveService
    from functions.logic.outbound import OutboundService, SenderService
    from functions.logic.passkey_sign_in import PasskeySignIn
    from functions.logic.passkeys import PasskeyService
    from functions.logic.read_watch import ReadVolumeWatch
    from functions.logic.secure_links import SecureLinkService
    from functions.logic.staff_alerts import StaffAlerts
    from functions.logic.staff_users import StaffAdminService
    from functions.logic.web_push import WebPushService

__all__ = ["Container", "Ports"]


class Container(VoiceFactories, CareFactories):
    """Services for one settings object and one AWS target, built once each."""

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

    # --- the staff API ----------------------------------------------------------
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

    def passkey_sign_in(self) -> PasskeySignIn:
        """Cognito's custom-auth triggers: the passkeys, the audit log and a clock only."""

        def build() -> PasskeySignIn:
            from functions.dal.passkeys import PasskeyStore  # noqa: PLC0415 - trigger path only
            from functions.logic.passkey_sign_in import PasskeySignIn  # noqa: PLC0415

            return PasskeySignIn(PasskeyStore(self.store().table), self.audit_sink(), self.clock())

        return self._once("passkey_sign_in", build)

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

    def staff_admin_service(self) -> StaffAdminService:
        def build() -> StaffAdminService:
            from functions.logic.staff_users import StaffAdminService  # noqa: PLC0415

            return StaffAdminService(self.staff_directory(), self.session_guard())

        return self._once("staff_admin_service", build)

    # --- live updates and Web Push (functions/logic/live.py, web_push.py) -----------
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
