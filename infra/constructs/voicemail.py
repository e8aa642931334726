"""Voicemail storage, whichever carrier takes the calls (config.voice; docs/voice.md).

- Voicemail bucket: the audio sealed under each tenant's key, SSE-KMS under the platform
  key on top, versioned, access-logged, kept like the messages.
- Access-log bucket: the S3 request logs of the voice buckets (Chime's staging bucket too).

The construct's id is "Voice": the buckets keep the logical ids they had when one Chime
construct owned everything, and a practice that switches carrier keeps its voicemails.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.core.settings import ENV_VOICEMAIL_BUCKET
from infra.buckets import PRIVATE_BUCKET, access_log_bucket
from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey
from infra.constructs.transcription import TranscriptionStorage
from infra.nag import acknowledge

# Amazon Chime SDK's audio service (PlayAudio/RecordAudio) as an S3/KMS principal.
CHIME_PRINCIPAL = "voiceconnector.chime.amazonaws.com"
VOICEMAIL_OBJECTS = "voicemail/*"  # functions/logic/voice_settings.voicemail_object_key
GREETING_OBJECTS = "greetings/*"  # functions/logic/voice_settings.greeting_object_key

_VOICEMAIL_OBJECTS_REASON = (
    "Voicemail object keys are per call (voicemail/<tenant>/<conversation>/<call>), created"
    " at run time; the grant is limited to that one prefix of the voicemail bucket and to"
    " the exact object actions this path uses."
)
_GREETING_OBJECTS_REASON = (
    "Greeting object keys are per upload (greetings/<tenant>/<id>.<ext>), created at run"
    " time; the grant is limited to that one prefix of the voicemail bucket (the practice's"
    " recorded greeting, not PHI) and to the exact object actions this path uses."
)
_VOICEMAIL_REPLICATION_REASON = (
    "Cross-region replication is the practice's choice and cost (a second bucket, its own"
    " key, transfer); the voicemail bucket is versioned and each object is also sealed"
    " under the tenant's key, which AWS Backup of the message table does not cover either."
)
_LOGS_REPLICATION_REASON = (
    "The voice access-log bucket holds S3 request logs (keys of ids, status codes, caller"
    " IPs of AWS services), no PHI; versioning keeps them and a second region adds only cost."
)
_LOGS_SSE_S3_REASON = (
    "S3 server access log delivery writes with SSE-S3 only; the bucket holds request"
    " logs (object keys of ids, status codes), no PHI."
)


class VoicemailStorage(Construct):
    """The sealed-voicemail bucket and its access logs; built only when voice is on."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: PlatformKey,
        alarms: Alarms | None = None,
    ) -> None:
        super().__init__(scope, id)
        # S3 server access logging writes with SSE-S3 and bucket-owner-enforced ownership.
        self.access_logs = access_log_bucket(
            self, config.audit_retention_days, s3.ObjectOwnership.BUCKET_OWNER_ENFORCED
        )
        self.voicemail_bucket = self._voicemail_bucket(config, platform_key)
        # Optional transcription (each practice opts in): its bucket, grants and alarms.
        self.transcription = TranscriptionStorage(
            self,
            "Transcription",
            platform_key=platform_key,
            access_logs=self.access_logs,
            alarms=alarms,
        )
        self._acknowledge()

    def environment(self) -> dict[str, str]:
        """What a function storing or playing voicemail needs (the transcription settings
        also tell the staff API that a practice may turn transcription on)."""
        return {
            ENV_VOICEMAIL_BUCKET: self.voicemail_bucket.bucket_name,
            **self.transcription.environment(),
        }

    def grant_voicemail_write(self, grantee: QuietlineFunction) -> None:
        """Sealed audio in, with its retention tag; the bucket key through S3 only. Whoever
        stores a voicemail also starts (and polls) its transcription job."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject", "s3:PutObjectTagging"],
            resource_arns=[self.voicemail_bucket.arn_for_objects(VOICEMAIL_OBJECTS)],
        )
        self._grant_bucket_key(grantee, "kms:GenerateDataKey")
        self._acknowledge_voicemail_objects(grantee)
        self.transcription.grant_jobs(grantee)

    def grant_voicemail_read(self, grantee: QuietlineFunction) -> None:
        """Playback: GetObject on the voicemail objects, the bucket key through S3 only."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[self.voicemail_bucket.arn_for_objects(VOICEMAIL_OBJECTS)],
        )
        self._grant_bucket_key(grantee, "kms:Decrypt")
        self._acknowledge_voicemail_objects(grantee)

    def grant_greeting_write(self, grantee: QuietlineFunction) -> None:
        """The staff API stores and removes the practice's greeting (greetings/* only)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:PutObject", "s3:DeleteObject"],
            resource_arns=[self.voicemail_bucket.arn_for_objects(GREETING_OBJECTS)],
        )
        self._grant_bucket_key(grantee, "kms:GenerateDataKey")
        self._acknowledge_greeting_objects(grantee)

    def grant_greeting_read(self, grantee: QuietlineFunction) -> None:
        """GetObject on greetings/* only: what a presigned URL for Twilio's <Play> signs
        with (the URL can do no more than the role that signed it)."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[self.voicemail_bucket.arn_for_objects(GREETING_OBJECTS)],
        )
        self._grant_bucket_key(grantee, "kms:Decrypt")
        self._acknowledge_greeting_objects(grantee)

    def allow_chime_greetings(self, sip_media_application_arn: str) -> None:
        """Chime's PlayAudio reads greetings/* (never voicemail/*) for this account's SMA
        only (aws:SourceAccount + aws:SourceArn, the confused-deputy guard); the platform
        key decrypts for it through S3 only."""
        stack = cdk.Stack.of(self)
        conditions = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": sip_media_application_arn},
        }
        chime = iam.ServicePrincipal(CHIME_PRINCIPAL)
        self.voicemail_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ChimePlayAudioGreetings",
                principals=[chime],
                actions=["s3:GetObject"],
                resources=[self.voicemail_bucket.arn_for_objects(GREETING_OBJECTS)],
                conditions=conditions,
            )
        )
        key = self.voicemail_bucket.encryption_key
        assert key is not None
        # The key policy names this account's SMAs by pattern: naming the SMA itself would
        # make the platform key depend on it (a cycle through the call-control role).
        any_sma = stack.format_arn(service="chime", resource="sma", resource_name="*")
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="ChimePlayAudioGreetingsDecrypt",
                principals=[chime],
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": stack.account,
                        "kms:ViaService": f"s3.{stack.region}.amazonaws.com",
                    },
                    "ArnLike": {"aws:SourceArn": any_sma},
                },
            )
        )

    # --- buckets ---------------------------------------------------------------------------
    def _voicemail_bucket(self, config: QuietlineConfig, platform_key: PlatformKey) -> s3.Bucket:
        longest = max(config.retention_days(t) for t in config.tenants)
        return s3.Bucket(
            self,
            "VoicemailBucket",
            **PRIVATE_BUCKET,
            # S3DefaultEncryptionKMS: the platform key on top of the per-tenant envelope.
            encryption=s3.BucketEncryption.KMS,
            encryption_key=platform_key.key,
            bucket_key_enabled=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="voicemail-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    # Never past the longest message retention: a thread's TTL removes the
                    # call item; this removes its audio (crypto-shredding covers the rest).
                    id="ExpireWithMessages",
                    expiration=cdk.Duration.days(longest),
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    # --- grants ----------------------------------------------------------------------------
    def _grant_bucket_key(self, grantee: iam.IGrantable, action: str) -> None:
        """The platform key for the voicemail bucket's SSE-KMS, through S3 only."""
        key = self.voicemail_bucket.encryption_key
        assert key is not None
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[action],
            resource_arns=[key.key_arn],
            conditions={
                "StringEquals": {"kms:ViaService": f"s3.{cdk.Stack.of(self).region}.amazonaws.com"}
            },
        )

    def _acknowledge_voicemail_objects(self, fn: QuietlineFunction) -> None:
        acknowledge_objects(fn, self.voicemail_bucket, VOICEMAIL_OBJECTS, _VOICEMAIL_OBJECTS_REASON)

    def _acknowledge_greeting_objects(self, fn: QuietlineFunction) -> None:
        acknowledge_objects(fn, self.voicemail_bucket, GREETING_OBJECTS, _GREETING_OBJECTS_REASON)

    def _acknowledge(self) -> None:
        acknowledge(
            self.voicemail_bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            _VOICEMAIL_REPLICATION_REASON,
        )
        acknowledge(
            self.access_logs, "HIPAA.Security-S3BucketReplicationEnabled", _LOGS_REPLICATION_REASON
        )
        acknowledge(self.access_logs, "HIPAA.Security-S3DefaultEncryptionKMS", _LOGS_SSE_S3_REASON)


def acknowledge_objects(
    fn: QuietlineFunction, bucket: s3.Bucket, pattern: str, reason: str
) -> None:
    """AwsSolutions-IAM5 for a grant on one prefix of one bucket, named exactly."""
    stack = cdk.Stack.of(bucket)
    bucket_id = stack.get_logical_id(bucket.node.default_child)  # type: ignore[arg-type]
    acknowledge(fn.role.policy, f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{pattern}]", reason)
