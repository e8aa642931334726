"""The Quietline stack: composes one construct per capability, nothing else."""

from __future__ import annotations

import re

import aws_cdk as cdk
import jsii
from constructs import Construct

from functions.core.settings import ENV_PUBLIC_BASE_URL
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.audit import AuditLog, SecurityTrail
from infra.constructs.backup import Backups
from infra.constructs.care_pager import CarePager
from infra.constructs.identity import StaffIdentity
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.live_updates import LiveUpdates
from infra.constructs.message_store import MessageStore
from infra.constructs.messaging import Messaging
from infra.constructs.network import Network
from infra.constructs.passkey_sign_in import PasskeySignIn
from infra.constructs.queues import MessageQueues
from infra.constructs.rest_api import ApiGatewayAccount, api_origin
from infra.constructs.scheduler import Scheduler
from infra.constructs.secure_link_api import SecureLinkApi
from infra.constructs.staff_api import StaffApi
from infra.constructs.twilio_carrier import TwilioVoiceParts
from infra.constructs.voice import ChimeVoice
from infra.constructs.voicemail import VoicemailStorage
from infra.constructs.web_hosting import WebInbox
from infra.constructs.web_push import WebPushKey


@jsii.implements(cdk.IStableStringProducer)
class _Later:
    """A value known only once a later construct exists (a cdk.Lazy's producer)."""

    def __init__(self) -> None:
        self.value: str | None = None

    def produce(self) -> str | None:
        return self.value


def _pascal(slug: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-zA-Z0-9]+", slug) if part)


class QuietlineStack(cdk.Stack):
    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, env: cdk.Environment
    ) -> None:
        super().__init__(
            scope,
            id,
            env=env,
            description=f"Quietline HIPAA-ready client texting for {config.practice_name}",
            # The stack holds every key and record: protect it from an accidental delete.
            termination_protection=True,
        )
        self.config = config
        self.platform_key = PlatformKey(self, "PlatformKey", config=config)
        self.tenant_keys = TenantKeys(self, "TenantKeys", config=config)
        self.alarms = Alarms(self, "Alarms", config=config, platform_key=self.platform_key.key)
        self.network = (
            Network(self, "Network", config=config, platform_key=self.platform_key.key)
            if config.vpc.enabled
            else None
        )
        self.message_store = MessageStore(
            self, "MessageStore", config=config, platform_key=self.platform_key.key
        )
        self.backups = Backups(
            self,
            "Backups",
            config=config,
            platform_key=self.platform_key.key,
            alarms=self.alarms,
        )
        self.backups.protect("MessageTable", self.message_store.table)
        self.queues = MessageQueues(
            self, "Queues", platform_key=self.platform_key.key, alarms=self.alarms
        )
        self.api_account = ApiGatewayAccount(self, "ApiGatewayAccount")
        # Before messaging: Twilio's voice function (built with the webhook API) appends
        # to the audit log and stores voicemail.
        self.audit_log = AuditLog(
            self,
            "AuditLog",
            config=config,
            platform_key=self.platform_key.key,
            alarms=self.alarms,
            network=self.network,
        )
        self.backups.protect("AuditTable", self.audit_log.table)
        # Id "Voice": the buckets' logical ids are the ones Chime-only voice had.
        self.voicemail = (
            VoicemailStorage(
                self, "Voice", config=config, platform_key=self.platform_key, alarms=self.alarms
            )
            if config.voice.enabled
            else None
        )
        self.identity = StaffIdentity(self, "Identity", config=config)
        self.messaging = Messaging(
            self,
            "Messaging",
            config=config,
            platform_key=self.platform_key,
            tenant_keys=self.tenant_keys,
            alarms=self.alarms,
            message_store=self.message_store,
            queues=self.queues,
            network=self.network,
            api_account=self.api_account,
            twilio_voice=(
                TwilioVoiceParts(self.voicemail, self.audit_log, self.identity)
                if self.voicemail is not None and config.carrier == "twilio"
                else None
            ),
        )
        # Pages for crisis flags and after-hours texts, from the table's stream: the
        # grants paging needs stay off the inbound functions (docs/crisis.md).
        self.care_pager = CarePager(
            self,
            "CarePager",
            messaging=self.messaging,
            audit_log=self.audit_log,
            identity=self.identity,
        )
        # Passkey sign-in: the pool's custom-auth triggers, on the app lock's passkeys.
        self.passkey_sign_in = PasskeySignIn(
            self,
            "PasskeySignIn",
            parts=self.messaging.parts,
            audit_log=self.audit_log,
            identity=self.identity,
        )
        # The inbox's distribution needs the API's origin (its CSP) and the API needs the
        # inbox's origin (CORS, secure links): no cycle between the resources (the
        # distribution refers to the RestApi only), but the API is built first.
        hosted_origin = _Later()
        inbox_origin = cdk.Lazy.string(hosted_origin) if config.web.enabled else config.inbox_origin
        self.staff_api = StaffApi(
            self,
            "StaffApi",
            config=config,
            platform_key=self.platform_key,
            tenant_keys=self.tenant_keys,
            alarms=self.alarms,
            message_store=self.message_store,
            queues=self.queues,
            audit_log=self.audit_log,
            identity=self.identity,
            api_account=self.api_account,
            network=self.network,
            inbox_origin=inbox_origin,
        )
        self.voice = self._chime_voice() if config.carrier == "aws" else None
        self._staff_api_voice()
        # The inbox's live updates (a WebSocket API; ids only): tickets from the staff API.
        self.live = LiveUpdates(
            self, "Live", parts=self.messaging.parts, api_account=self.api_account
        )
        self.live.grant_tickets(self.staff_api.function)
        self.web_push = self._web_push()
        # Secure messages need the inbox (the client's page is <inbox>/s#<token>); their
        # public routes are an API of their own, watched apart from the staff API.
        self.secure_links = (
            SecureLinkApi(
                self,
                "SecureLinks",
                config=config,
                platform_key=self.platform_key,
                tenant_keys=self.tenant_keys,
                alarms=self.alarms,
                message_store=self.message_store,
                queues=self.queues,
                audit_log=self.audit_log,
                api_account=self.api_account,
                network=self.network,
                inbox_origin=inbox_origin,
            )
            if inbox_origin
            else None
        )
        self.scheduler = Scheduler(
            self, "Scheduler", parts=self.messaging.parts, secure_link_base_url=inbox_origin
        )
        self.web = (
            WebInbox(
                self,
                "Web",
                config=config,
                api_origins=[
                    *(
                        api_origin(api.api)
                        for api in (self.staff_api, self.secure_links)
                        if api is not None
                    ),
                    self.live.origin,
                ],
                session_api=self.staff_api.api,
            )
            if config.web.enabled
            else None
        )
        if self.web is not None:
            hosted_origin.value = self.web.origin
        # An organization trail that already records this account makes ours redundant.
        self.trail = (
            None
            if config.cloudtrail.existing_trail
            else SecurityTrail(
                self,
                "Trail",
                config=config,
                platform_key=self.platform_key.key,
                alarms=self.alarms,
                data_event_tables=[self.message_store.table, self.audit_log.table],
            )
        )
        self._outputs()
        self._messaging_outputs()
        self._staff_and_audit_outputs()

    def _web_push(self) -> WebPushKey | None:
        """The VAPID key (docs/web.md): the live notifier signs with it, the staff API reads
        only its public half. None in VPC mode: isolated subnets have no route to the
        browsers' push services (FCM, Mozilla, Apple), so nothing could be delivered."""
        if self.config.vpc.enabled:
            return None
        web_push = WebPushKey(
            self, "WebPush", config=self.config, platform_key=self.platform_key.key
        )
        for name, value in web_push.grant_send(self.live.notifier).items():
            self.live.notifier.function.add_environment(name, value)
        api = self.staff_api.function
        for name, value in web_push.grant_public_key(api).items():
            api.function.add_environment(name, value)
        return web_push

    def _chime_voice(self) -> ChimeVoice | None:
        """Calls on Chime SDK: the SIP media application, its call-control Lambda and SIP
        rules, built inside the voicemail storage (see infra/constructs/voice.py)."""
        if self.voicemail is None:
            return None
        voice = ChimeVoice(
            self.voicemail,
            "Default",  # hidden from logical ids: those of the one-construct Chime voice
            config=self.config,
            platform_key=self.platform_key,
            storage=self.voicemail,
            tenant_keys=self.tenant_keys,
            alarms=self.alarms,
            message_store=self.message_store,
            queues=self.queues,
            audit_log=self.audit_log,
            staff=self.messaging.staff,
            identity=self.identity,
            network=self.network,
        )
        api = self.staff_api.function
        for name, value in voice.environment_for_api().items():
            api.function.add_environment(name, value)
        voice.grant_click_to_call(api)
        return voice

    def _staff_api_voice(self) -> None:
        """Voicemail playback on either carrier; click-to-call through Twilio's REST API
        needs its credentials and the base URL its TwiML callbacks are served from."""
        if self.voicemail is None:
            return
        api = self.staff_api.function
        env = self.voicemail.environment()
        twilio = self.messaging.twilio
        if twilio is not None:
            env |= {**twilio.env(), ENV_PUBLIC_BASE_URL: twilio.base_url}
            twilio.grant_read_auth_token(api)
        for name, value in env.items():
            api.function.add_environment(name, value)
        self.voicemail.grant_voicemail_read(api)
        self.voicemail.grant_greeting_write(api)  # PUT/DELETE /voice-settings/greeting

    def _outputs(self) -> None:
        cdk.CfnOutput(
            self,
            "MessageTableName",
            value=self.message_store.table.table_name,
            description="DynamoDB table holding messages (PHI fields envelope-encrypted)",
        )
        output_ids: dict[str, str] = {}
        for tenant_id, key in self.tenant_keys.keys.items():
            # Tenant ids are configuration slugs, not PHI.
            output_id = f"TenantKey{_pascal(tenant_id)}Arn"
            if output_id in output_ids:
                raise ValueError(
                    f"tenants '{output_ids[output_id]}' and '{tenant_id}' need distinct "
                    "ids once hyphens are dropped (CloudFormation output names)"
                )
            output_ids[output_id] = tenant_id
            cdk.CfnOutput(
                self,
                output_id,
                value=key.key_arn,
                description=f"KMS envelope key of tenant {tenant_id}",
            )
        cdk.CfnOutput(
            self,
            "AlarmTopicArn",
            value=self.alarms.topic.topic_arn,
            description="SNS topic that alarms publish to",
        )

    def _messaging_outputs(self) -> None:
        """Names and URLs the operator and the `quietline` CLI need; never PHI."""
        messaging, queues = self.messaging, self.queues
        outputs: dict[str, tuple[str, str]] = {
            "OutboundQueueUrl": (queues.outbound.queue.queue_url, "Queue of texts to send"),
            "OutboundDlqUrl": (
                queues.outbound.dead_letter_queue.queue_url,
                "Texts the sender gave up on (replay: quietline replay outbound)",
            ),
            "RetryQueueUrl": (
                queues.retry.queue.queue_url,
                "Inbound texts and delivery statuses waiting for a retry",
            ),
            "RetryDlqUrl": (
                queues.retry.dead_letter_queue.queue_url,
                "Retries that were given up on (replay: quietline replay retry)",
            ),
            "SenderFunctionName": (
                messaging.sender.function.function_name,
                "Lambda function that sends queued texts",
            ),
            "StaffTopicArn": (
                messaging.staff.topic.topic_arn,
                "SNS topic of 'New message in Quietline' e-mails (no PHI); subscribe staff",
            ),
        }
        if messaging.inbound is not None and messaging.inbound_topic is not None:
            outputs["InboundFunctionName"] = (
                messaging.inbound.function.function_name,
                "Lambda function that stores inbound texts from End User Messaging",
            )
            outputs["InboundFunctionDlqUrl"] = (
                messaging.inbound.dead_letters.queue_url,
                "Inbound events the function gave up on (replay: quietline replay inbound)",
            )
            outputs["InboundSmsTopicArn"] = (
                messaging.inbound_topic.topic_arn,
                "Two-way SMS channel of each business number: run `quietline numbers two-way"
                " <phone-number-id>`, or `aws pinpoint-sms-voice-v2 update-phone-number"
                " --phone-number-id <phone-number-id> --two-way-enabled"
                " --two-way-channel-arn <this ARN> --self-managed-opt-outs-enabled`",
            )
        if messaging.twilio_auth_token is not None:
            outputs["TwilioSmsWebhookUrl"] = (
                messaging.twilio_sms_webhook_url,
                "Twilio console > the number > Messaging: 'A message comes in' webhook, HTTP POST",
            )
            outputs["TwilioStatusWebhookUrl"] = (
                messaging.twilio_status_webhook_url,
                "Status callback URL (the sender sets it on every message it sends)",
            )
            if messaging.twilio_voice is not None:
                outputs["TwilioVoiceWebhookUrl"] = (
                    messaging.twilio_voice_webhook_url,
                    "Twilio console > each voice number > Voice Configuration: 'A call comes"
                    " in' webhook, HTTP POST (the other voice routes are in our TwiML)",
                )
            outputs["TwilioAuthTokenSecretArn"] = (
                messaging.twilio_auth_token.secret_arn,
                "After deploy, store the Twilio auth token (Twilio console > Account >"
                " API keys & tokens) without it reaching shell history: `read -rs TOKEN &&"
                " aws secretsmanager put-secret-value --secret-id <this ARN>"
                ' --secret-string "$TOKEN"`. Repeat after each rotation in Twilio.',
            )
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)

    def _staff_and_audit_outputs(self) -> None:
        """What the web inbox and the operator need to sign in, call the API and audit."""
        identity = self.identity
        outputs: dict[str, tuple[str, str]] = {
            "ApiUrl": (
                self.staff_api.url,
                "Base URL of the staff API (append the route, e.g. /me); the OpenAPI"
                " document is at /openapi.json",
            ),
            "UserPoolId": (
                identity.user_pool.user_pool_id,
                "Cognito user pool of staff accounts (MFA required); admins invite staff",
            ),
            "UserPoolClientId": (
                identity.client.user_pool_client_id,
                "App client the web inbox signs in with (no secret; password + TOTP)",
            ),
            "AuditTableName": (
                self.audit_log.table.table_name,
                "DynamoDB table of the audit log and its seal chain"
                " (quietline audit verify|export|seal)",
            ),
        }
        if self.secure_links is not None:
            outputs["SecureApiUrl"] = (
                self.secure_links.url,
                "Base URL of the clients' secure-message API (/secure/{token}/...), apart"
                " from the staff API; `quietline web publish` writes it into config.json",
            )
        if self.web is not None:
            outputs["WebUrl"] = (
                self.web.origin,
                "The web inbox (and the base of clients' secure links); run `quietline web"
                " publish` after each deploy to upload it",
            )
            outputs["WebBucketName"] = (
                self.web.bucket.bucket_name,
                "Private S3 bucket of the inbox's files (written by `quietline web publish`)",
            )
            outputs["WebDistributionId"] = (
                self.web.distribution.distribution_id,
                "CloudFront distribution serving the inbox",
            )
        if self.web_push is not None:
            outputs["WebPushKeySecretArn"] = (
                self.web_push.secret.secret_arn,
                "Web Push's VAPID key; run `quietline push init` once after the first deploy",
            )
        if self.trail is not None:
            outputs["TrailName"] = (
                self.trail.trail_name,
                "CloudTrail trail: management events (KMS included) and DynamoDB data events",
            )
            outputs["TrailBucketName"] = (
                self.trail.bucket.bucket_name,
                "S3 bucket of the trail's log files (Object Lock, validated digests)",
            )
            outputs["TrailLogGroupName"] = (
                self.trail.log_group.log_group_name,
                "CloudWatch Logs copy of the trail (quietline audit verify --against-trail)",
            )
        for output_id, (value, description) in outputs.items():
            cdk.CfnOutput(self, output_id, value=value, description=description)
