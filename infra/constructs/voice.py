"""Calls on Amazon Chime SDK PSTN audio (carrier "aws", config.voice; docs/voice.md).

- SIP media application: the native L1 AWS::Chime::SipMediaApplication, one endpoint (the
  call-control Lambda, same Region), which only voiceconnector.chime.amazonaws.com may
  invoke, for this account's SIP media applications.
- SIP rules: one per voice number (ToPhoneNumber -> the SMA) through our own custom
  resource; CloudFormation has no SIP rule type. Numbers are ordered or ported outside
  the stack and never released by it.
- Staging bucket: where RecordAudio writes (it cannot write under our key): SSE-S3, no
  versioning (a delete must really delete), readable by the call-control Lambda only,
  emptied by that Lambda at once and by a 1-day lifecycle rule as the backstop.
- The sealed voicemail and the access logs are VoicemailStorage's (voicemail.py), which
  Twilio voice uses too. ChimeVoice is built inside it as its "Default" child, so its
  resources keep the logical ids they had when one construct owned all of voice: a new id
  would replace the SIP media application and try to create a second SIP rule per number.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_chime as chime
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.core.settings import (
    ENV_AUDIT_TABLE_NAME,
    ENV_CARRIER,
    ENV_CHIME_SIP_MEDIA_APPLICATION_ID,
    ENV_OUTBOUND_QUEUE_URL,
    ENV_STAFF_TOPIC_ARN,
    ENV_TABLE_NAME,
    ENV_USER_POOL_ID,
    ENV_VOICE_ONLY_NUMBERS,
    ENV_VOICE_STAGING_BUCKET,
)
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.audit import AuditLog
from infra.constructs.function import QuietlineFunction
from infra.constructs.identity import StaffIdentity
from infra.constructs.keys import PlatformKey, TenantKeys
from infra.constructs.message_store import MessageStore
from infra.constructs.network import Network
from infra.constructs.queues import MessageQueues
from infra.constructs.staff_notifications import StaffNotifications
from infra.constructs.voicemail import CHIME_PRINCIPAL, VoicemailStorage, acknowledge_objects
from infra.nag import acknowledge

CALL_CONTROL_HANDLER = "functions.handlers.chime_call_control.handler"
SIP_RULE_HANDLER = "functions.carriers.chime_sip_rule.on_event"
SIP_RULE_TYPE = "Custom::ChimeSipRule"
STAGING_EXPIRY = cdk.Duration.days(1)  # S3 lifecycle is whole days: the backstop only
SWEEP_EVERY = cdk.Duration.minutes(5)
STAGED_OBJECTS = "staged/*"  # functions/carriers/chime_voice.staging_prefix
_SIP_RULE_ACTIONS = (
    "chime:CreateSipRule",
    "chime:UpdateSipRule",
    "chime:DeleteSipRule",
    "chime:GetSipRule",
)

_STAGING_SSE_S3_REASON = (
    "Chime SDK RecordAudio writes the caller's message here as the Chime service"
    " (voiceconnector.chime.amazonaws.com); AWS documents no way for it to use a customer"
    " managed key, and it cannot use an AWS managed one. So SSE-S3 (AES-256, AWS-owned key),"
    " with the bucket closed to everyone but that service (this account's SIP media"
    " applications only) and the call-control Lambda, which reads each object once, seals"
    " it under the tenant's KMS key and deletes it within seconds; a 1-day lifecycle rule"
    " removes anything left."
)
_STAGING_VERSIONING_REASON = (
    "The staging bucket holds plaintext voicemail for seconds: versioning would keep every"
    " deleted recording as a noncurrent version, defeating the immediate delete. The sealed"
    " copy lives in the versioned voicemail bucket."
)
_STAGING_REPLICATION_REASON = (
    "Staged recordings live for seconds before they are sealed into the voicemail bucket;"
    " copying plaintext audio to another region would only widen where PHI sits."
)
_STAGED_OBJECTS_REASON = (
    "Staged recording keys are per call (staged/<call id>/<file>), written by RecordAudio"
    " at run time; the grant is limited to that one prefix of the staging bucket and to"
    " the exact object actions this path uses."
)
_SIP_RULE_IAM5_REASON = (
    "Chime SDK Voice SIP-rule actions (CreateSipRule, UpdateSipRule, DeleteSipRule,"
    " GetSipRule) are granted on '*' because the rule's id (and so its ARN) only exists"
    " after CreateSipRule and the Service Authorization Reference lists no SIP-rule resource"
    " type we could verify; the role can do nothing else, and only CloudFormation invokes it."
)


class ChimeVoice(Construct):
    """What calls on Chime SDK need besides the voicemail storage; carrier "aws" with
    config.voice.enabled only. Build it as `storage`'s "Default" child (see the module)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: PlatformKey,
        storage: VoicemailStorage,
        tenant_keys: TenantKeys,
        alarms: Alarms,
        message_store: MessageStore,
        queues: MessageQueues,
        audit_log: AuditLog,
        staff: StaffNotifications,
        identity: StaffIdentity,
        network: Network | None,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self._config = config
        self.storage = storage
        self.staging_bucket = self._staging_bucket()
        self.call_control = QuietlineFunction(
            self,
            "CallControl",
            config=config,
            platform_key=platform_key.key,
            alarms=alarms,
            handler=CALL_CONTROL_HANDLER,
            description="Chime SDK call control: ring, screen, voicemail (sealed at once)",
            environment={
                ENV_TABLE_NAME: message_store.table.table_name,
                ENV_CARRIER: config.carrier,
                ENV_OUTBOUND_QUEUE_URL: queues.outbound.queue.queue_url,
                ENV_AUDIT_TABLE_NAME: audit_log.table.table_name,
                ENV_STAFF_TOPIC_ARN: staff.topic.topic_arn,
                **storage.environment(),
                ENV_VOICE_STAGING_BUCKET: self.staging_bucket.bucket_name,
                # Rings only enabled staff; Chime voice numbers cannot text.
                ENV_USER_POOL_ID: identity.user_pool.user_pool_id,
                ENV_VOICE_ONLY_NUMBERS: " ".join(config.voice.numbers),
            },
            network=network,
            # The SMA waits on each answer while the caller hears silence; reading and
            # sealing a 5-minute WAV is the slowest step.
            timeout=cdk.Duration.seconds(20),
            memory_size=1024,
        )
        self.sip_media_application = chime.CfnSipMediaApplication(
            self,
            "SipMediaApplication",
            aws_region=stack.region,
            name=f"{config.stack_name}-voice",
            endpoints=[
                chime.CfnSipMediaApplication.SipMediaApplicationEndpointProperty(
                    lambda_arn=self.call_control.function.function_arn
                )
            ],
        )
        self.sip_media_application_arn = self.sip_media_application.attr_sip_media_application_arn
        self._grant_call_control(tenant_keys, message_store, queues, audit_log, staff)
        identity.grant_staff_lookup(self.call_control)
        self._allow_chime(stack)
        self._sweep_schedule()
        self._sip_rules(config, network, alarms, platform_key)
        self._acknowledge()

    # --- what the API needs for click-to-call (playback: VoicemailStorage) --------------------
    def environment_for_api(self) -> dict[str, str]:
        return {
            ENV_VOICE_STAGING_BUCKET: self.staging_bucket.bucket_name,
            ENV_VOICE_ONLY_NUMBERS: " ".join(self._config.voice.numbers),
            ENV_CHIME_SIP_MEDIA_APPLICATION_ID: (
                self.sip_media_application.attr_sip_media_application_id
            ),
        }

    def grant_click_to_call(self, grantee: iam.IGrantable) -> None:
        """CreateSipMediaApplicationCall on our SMA only."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["chime:CreateSipMediaApplicationCall"],
            resource_arns=[self.sip_media_application_arn],
        )

    # --- buckets ---------------------------------------------------------------------------
    def _staging_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "StagingBucket",
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=False,  # see _STAGING_VERSIONING_REASON
            encryption=s3.BucketEncryption.S3_MANAGED,  # see _STAGING_SSE_S3_REASON
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.storage.access_logs,
            server_access_logs_prefix="staging-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireStagedRecordings",
                    expiration=STAGING_EXPIRY,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            # Holds nothing worth keeping (seconds-old plaintext already sealed elsewhere).
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        return bucket

    # --- grants ----------------------------------------------------------------------------
    def _grant_call_control(
        self,
        tenant_keys: TenantKeys,
        message_store: MessageStore,
        queues: MessageQueues,
        audit_log: AuditLog,
        staff: StaffNotifications,
    ) -> None:
        fn = self.call_control
        # Calls in the message table, a first caller's conversation, the routed cells
        # (decrypt) and new sealed numbers and audio (generate), the missed-call text,
        # the audit chain, the "new voicemail" notice (no PHI).
        message_store.grant_read_write_data(fn)
        for tenant_id in (t.id for t in self._config.tenants):
            tenant_keys.grant_envelope(fn, tenant_id, decrypt=True, generate=True)
        queues.outbound.grant_send(fn)
        audit_log.grant_append_and_read(fn)
        staff.grant_publish(fn)
        # Sealed audio in (with its retention tag), staged audio read once and deleted.
        self.storage.grant_voicemail_write(fn)
        iam.Grant.add_to_principal(
            grantee=fn,
            actions=["s3:GetObject", "s3:DeleteObject"],
            resource_arns=[self.staging_bucket.arn_for_objects(STAGED_OBJECTS)],
        )
        iam.Grant.add_to_principal(
            grantee=fn,
            actions=["s3:ListBucket"],
            resource_arns=[self.staging_bucket.bucket_arn],
            conditions={"StringLike": {"s3:prefix": ["staged/*"]}},
        )
        acknowledge_objects(fn, self.staging_bucket, STAGED_OBJECTS, _STAGED_OBJECTS_REASON)

    def _allow_chime(self, stack: cdk.Stack) -> None:
        """Only the Chime service, for this account's SMA, may invoke the Lambda and write
        recordings (aws:SourceAccount + aws:SourceArn, the confused-deputy guard)."""
        self.call_control.function.add_permission(
            "InvokeFromSipMediaApplication",
            principal=iam.ServicePrincipal(CHIME_PRINCIPAL),
            action="lambda:InvokeFunction",
            source_account=stack.account,
            source_arn=self.sip_media_application_arn,
        )
        self.storage.allow_chime_greetings(self.sip_media_application_arn)
        self.staging_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ChimeRecordAudioWrite",
                principals=[iam.ServicePrincipal(CHIME_PRINCIPAL)],
                # RecordAudio's documented policy asks for PutObjectAcl too.
                actions=["s3:PutObject", "s3:PutObjectAcl"],
                resources=[self.staging_bucket.arn_for_objects("staged/*")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self.sip_media_application_arn},
                },
            )
        )

    def _sweep_schedule(self) -> None:
        """Every few minutes: seal any recording its call could not (a fault, a hang-up
        mid-recording), so plaintext never waits for the 1-day lifecycle."""
        rule = events.Rule(
            self,
            "StagingSweep",
            description="Quietline voice: seal staged voicemails the call path left",
            schedule=events.Schedule.rate(SWEEP_EVERY),
        )
        from aws_cdk import aws_events_targets as targets  # noqa: PLC0415

        rule.add_target(
            targets.LambdaFunction(
                self.call_control.function,
                max_event_age=SWEEP_EVERY,
                retry_attempts=0,
                dead_letter_queue=self.call_control.dead_letters,
            )
        )

    # --- SIP rules (custom resource) --------------------------------------------------------
    def _sip_rules(
        self,
        config: QuietlineConfig,
        network: Network | None,
        alarms: Alarms,
        platform_key: PlatformKey,
    ) -> None:
        self.sip_rule_function = QuietlineFunction(
            self,
            "SipRuleResource",
            config=config,
            platform_key=platform_key.key,
            alarms=alarms,
            handler=SIP_RULE_HANDLER,
            description="Custom resource: the Chime SDK SIP rule of each voice number",
            network=network,
            reserved_concurrency=1,
            timeout=cdk.Duration.seconds(60),
            memory_size=256,
        )
        self.sip_rule_policy = iam.ManagedPolicy(
            self,
            "SipRulePolicy",
            description="Quietline voice: manage the Chime SDK SIP rules of this stack",
            statements=[iam.PolicyStatement(actions=list(_SIP_RULE_ACTIONS), resources=["*"])],
            roles=[self.sip_rule_function.role],
        )
        region = cdk.Stack.of(self).region
        self.sip_rules = [
            cdk.CustomResource(
                self,
                f"SipRule{index}",
                service_token=self.sip_rule_function.function.function_arn,
                resource_type=SIP_RULE_TYPE,
                properties={
                    "Name": f"{config.stack_name}-voice-{index}",
                    "PhoneNumber": number,
                    "SipMediaApplicationId": (
                        self.sip_media_application.attr_sip_media_application_id
                    ),
                    "AwsRegion": region,
                },
            )
            for index, number in enumerate(config.voice.numbers)
        ]

    def _acknowledge(self) -> None:
        acknowledge(
            self.staging_bucket, "HIPAA.Security-S3DefaultEncryptionKMS", _STAGING_SSE_S3_REASON
        )
        acknowledge(
            self.staging_bucket,
            "HIPAA.Security-S3BucketVersioningEnabled",
            _STAGING_VERSIONING_REASON,
        )
        acknowledge(
            self.staging_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            _STAGING_REPLICATION_REASON,
        )
        acknowledge(
            self.sip_rule_policy,
            "AwsSolutions-IAM5[Resource::*]",
            _SIP_RULE_IAM5_REASON,
        )
