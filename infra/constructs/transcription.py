"""Voicemail transcription (Amazon Transcribe), built with the voicemail storage when voice
is on; each practice still opts in (docs/voice.md, "Transcription").

- Transcription bucket: `staging/` (a voicemail's plaintext audio, for Transcribe to read)
  and `output/` (Transcribe's transcript, OutputEncryptionKMSKeyId). Both SSE-KMS under the
  platform key, unversioned (a delete really deletes), access-logged, every object expired
  after a day as a backstop: the code deletes both as soon as the transcript is sealed.
- Grants to each function that stores voicemail: the three job actions on our job names
  only, the two prefixes, the platform key through S3 and Transcribe only.
- Alarms: a job stuck past its limit, a voicemail whose transcription failed for good, a
  start or a sweep that failed (each counted by functions/logic/transcription.py).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.core.settings import ENV_TRANSCRIPTION_BUCKET, ENV_TRANSCRIPTION_KMS_KEY_ID
from functions.dal.transcriber import OUTPUT_PREFIX, STAGING_PREFIX
from infra.constructs.alarms import Alarms
from infra.constructs.function import QuietlineFunction
from infra.constructs.keys import PlatformKey
from infra.nag import acknowledge

JOB_NAMES = "quietline-vm-*"  # functions/logic/transcription.job_name
JOB_ACTIONS = [
    "transcribe:StartTranscriptionJob",
    "transcribe:GetTranscriptionJob",
    "transcribe:DeleteTranscriptionJob",
]
# Transcribe reads the media and writes its output with the caller's permissions.
OBJECT_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
# The platform key, by the service that uses it for us: S3 encrypts the staged audio and
# decrypts both objects; Transcribe checks and uses the output key with the caller's rights.
KEY_ACTIONS = {
    "s3": ["kms:GenerateDataKey", "kms:Decrypt"],
    "transcribe": ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
}
STAGING_EXPIRY = cdk.Duration.days(1)  # S3 lifecycle is whole days: the backstop only

_ALARMS = (
    ("TranscriptionStuck", "A voicemail transcription job ran past its limit (1 hour)."),
    ("TranscriptionFailed", "A voicemail's transcription failed after every retry."),
    ("TranscriptionStartFailed", "A voicemail transcription job could not be started."),
    ("TranscriptionSweepFailed", "Polling voicemail transcription jobs failed."),
)
_OBJECTS_REASON = (
    "Transcription object keys are per job (staging/<job>.<ext>, output/<job>.json, ids"
    " only), created at run time; the grant is limited to those two prefixes of the"
    " transcription bucket and to the object actions Transcribe needs of its caller."
)
_JOBS_REASON = (
    "Transcription job names are per voicemail (quietline-vm-<call ulid>-<try>), created at"
    " run time; the grant names our prefix of job names and the three job actions only."
)
_REPLICATION_REASON = (
    "The transcription bucket holds objects for minutes (deleted once the transcript is"
    " sealed under the tenant's key, expired after a day at most): nothing to replicate."
)
_VERSIONING_REASON = (
    "Unversioned on purpose: a delete must remove the plaintext audio and transcript at"
    " once, not keep a noncurrent version."
)


class TranscriptionStorage(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        platform_key: PlatformKey,
        access_logs: s3.IBucket,
        alarms: Alarms | None,
    ) -> None:
        super().__init__(scope, id)
        self.key = platform_key.key
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=False,  # see _VERSIONING_REASON
            # S3DefaultEncryptionKMS: the platform key (what the code also asks for).
            encryption=s3.BucketEncryption.KMS,
            encryption_key=self.key,
            bucket_key_enabled=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="transcription-bucket/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireTranscriptionObjects",
                    expiration=STAGING_EXPIRY,
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(1),
                )
            ],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        if alarms is not None:
            for metric, description in _ALARMS:
                alarms.on_code_metric(self, metric, threshold=1, description=description)
        acknowledge(self.bucket, "HIPAA.Security-S3BucketReplicationEnabled", _REPLICATION_REASON)
        acknowledge(self.bucket, "HIPAA.Security-S3BucketVersioningEnabled", _VERSIONING_REASON)

    def environment(self) -> dict[str, str]:
        return {
            ENV_TRANSCRIPTION_BUCKET: self.bucket.bucket_name,
            ENV_TRANSCRIPTION_KMS_KEY_ID: self.key.key_arn,
        }

    def grant_jobs(self, grantee: QuietlineFunction) -> None:
        """Start, poll and delete our jobs; stage audio, read and delete the output."""
        stack = cdk.Stack.of(self)
        jobs = stack.format_arn(
            service="transcribe", resource="transcription-job", resource_name=JOB_NAMES
        )
        iam.Grant.add_to_principal(grantee=grantee, actions=JOB_ACTIONS, resource_arns=[jobs])
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=OBJECT_ACTIONS,
            resource_arns=[
                self.bucket.arn_for_objects(f"{STAGING_PREFIX}*"),
                self.bucket.arn_for_objects(f"{OUTPUT_PREFIX}*"),
            ],
        )
        for service, actions in KEY_ACTIONS.items():
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=actions,
                resource_arns=[self.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"}
                },
            )
        bucket_id = stack.get_logical_id(self.bucket.node.default_child)  # type: ignore[arg-type]
        for prefix in (STAGING_PREFIX, OUTPUT_PREFIX):
            acknowledge(
                grantee.role.policy,
                f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                _OBJECTS_REASON,
            )
        # cdk-nag names the resource as synthesized: literal where the stack's environment
        # is known, else with the pseudo parameters' placeholders.
        named = (
            "arn:<AWS::Partition>:transcribe:<AWS::Region>:<AWS::AccountId>:transcription-job/"
            f"{JOB_NAMES}"
            if cdk.Token.is_unresolved(jobs)
            else jobs
        )
        acknowledge(grantee.role.policy, f"AwsSolutions-IAM5[Resource::{named}]", _JOBS_REASON)
