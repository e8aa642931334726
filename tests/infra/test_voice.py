"""The voice variant (voice.enabled on the AWS carrier): the SIP media application and who
may invoke its Lambda, the SIP rule custom resource and its role, the staging bucket
RecordAudio writes into (and nobody else), the sealed voicemail bucket, and cdk-nag green.

One synth per session, in its own xdist group."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from functions.core import settings
from infra.app_factory import build_app
from infra.constructs.voice import SIP_RULE_TYPE, ChimeVoice
from infra.constructs.voicemail import CHIME_PRINCIPAL
from infra.eligibility import classify
from infra.stack import QuietlineStack
from tests.infra.conftest import (
    ACCOUNT,
    SKIP_BUNDLING,
    Synthesized,
    _synthesize,
    config_data,
    config_error,
    logical_id,
    make_config,
    resources,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth-voice")]

VOICE_NUMBER = "+12065550123"  # the second tenant's number, ordered into Chime
VOICE = {"voice": {"enabled": True, "numbers": [VOICE_NUMBER]}}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("voice-cdk.out")
    app, stack = build_app(make_config(**VOICE), outdir=str(outdir), context=SKIP_BUNDLING)
    return _synthesize(app, outdir, [stack])  # raises on any unacknowledged nag finding


@pytest.fixture(scope="module")
def stack(synthesized: Synthesized) -> QuietlineStack:
    (found,) = synthesized.stacks.values()
    assert isinstance(found, QuietlineStack)
    return found


@pytest.fixture(scope="module")
def voice(stack: QuietlineStack) -> ChimeVoice:
    assert stack.voice is not None
    return stack.voice


@pytest.fixture(scope="module")
def raw(synthesized: Synthesized) -> dict[str, Any]:
    (found,) = synthesized.templates.values()
    return found


@pytest.fixture(scope="module")
def template(raw: dict[str, Any]) -> Template:
    return Template.from_json(raw)


def _statements(raw: dict[str, Any], policy_type: str) -> list[dict[str, Any]]:
    found = []
    for resource in resources(raw, policy_type).values():
        document = resource["Properties"].get("PolicyDocument", {})
        found.extend(document.get("Statement", []))
    return found


def _role_statements(raw: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    """Every statement of the policies attached to the role (inline or managed)."""
    found = []
    for policy_type in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        for resource in resources(raw, policy_type).values():
            props = resource["Properties"]
            if {"Ref": role_id} in props.get("Roles", []):
                found.extend(props["PolicyDocument"]["Statement"])
    return found


def _actions(statement: dict[str, Any]) -> set[str]:
    actions = statement["Action"]
    return {actions} if isinstance(actions, str) else set(actions)


def test_voice_is_off_by_default_and_adds_nothing() -> None:
    assert make_config().voice.enabled is False


def test_enabled_voice_needs_numbers_of_a_tenant() -> None:
    message = config_error(config_data(voice={"enabled": True, "numbers": ["+14155550100"]}))
    assert "voice.numbers" in message


def test_the_sip_media_application_calls_our_lambda_in_this_region(
    template: Template, voice: ChimeVoice
) -> None:
    template.has_resource_properties(
        "AWS::Chime::SipMediaApplication",
        {
            "AwsRegion": "us-east-1",
            "Endpoints": [
                {"LambdaArn": {"Fn::GetAtt": [logical_id(voice.call_control.function), "Arn"]}}
            ],
        },
    )
    assert classify("AWS::Chime::SipMediaApplication").category.name == "PHI_ELIGIBLE"


def test_only_chime_for_this_account_s_sma_may_invoke_call_control(
    template: Template, voice: ChimeVoice
) -> None:
    template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "Principal": CHIME_PRINCIPAL,
            "SourceAccount": ACCOUNT,
            "SourceArn": {
                "Fn::GetAtt": [logical_id(voice.sip_media_application), "SipMediaApplicationArn"]
            },
            "FunctionName": {"Fn::GetAtt": [logical_id(voice.call_control.function), "Arn"]},
        },
    )


def test_recordaudio_may_write_only_staged_keys_for_this_account_s_sma(
    raw: dict[str, Any], voice: ChimeVoice
) -> None:
    staging = logical_id(voice.staging_bucket)
    statements = [
        s
        for s in _statements(raw, "AWS::S3::BucketPolicy")
        if s.get("Principal") == {"Service": CHIME_PRINCIPAL}
        and s.get("Sid") != "ChimePlayAudioGreetings"
    ]
    (write,) = statements
    assert write["Effect"] == "Allow"
    assert _actions(write) == {"s3:PutObject", "s3:PutObjectAcl"}
    assert write["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [staging, "Arn"]}, "/staged/*"]]}
    assert write["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert write["Condition"]["ArnLike"] == {
        "aws:SourceArn": {
            "Fn::GetAtt": [logical_id(voice.sip_media_application), "SipMediaApplicationArn"]
        }
    }


def _sma_arn(voice: ChimeVoice) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id(voice.sip_media_application), "SipMediaApplicationArn"]}


def test_playaudio_may_read_only_greetings_of_the_voicemail_bucket_for_this_account_s_sma(
    raw: dict[str, Any], voice: ChimeVoice
) -> None:
    bucket = logical_id(voice.storage.voicemail_bucket)
    (read,) = [
        s
        for s in _statements(raw, "AWS::S3::BucketPolicy")
        if s.get("Principal") == {"Service": CHIME_PRINCIPAL}
        and s["Effect"] == "Allow"
        and "s3:GetObject" in _actions(s)
    ]
    assert _actions(read) == {"s3:GetObject"}
    # greetings/* only: the sealed voicemails under voicemail/* stay out of Chime's reach
    assert read["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/greetings/*"]]}
    assert read["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert read["Condition"]["ArnLike"] == {"aws:SourceArn": _sma_arn(voice)}


def test_the_platform_key_decrypts_for_chime_only_through_s3_for_this_account_s_sma(
    raw: dict[str, Any], voice: ChimeVoice
) -> None:
    (grant,) = [
        s
        for s in _statements(raw, "AWS::KMS::Key")
        + [
            st
            for r in resources(raw, "AWS::KMS::Key").values()
            for st in r["Properties"]["KeyPolicy"]["Statement"]
        ]
        if s.get("Principal") == {"Service": CHIME_PRINCIPAL}
    ]
    assert _actions(grant) == {"kms:Decrypt"}
    assert grant["Condition"]["StringEquals"] == {
        "aws:SourceAccount": ACCOUNT,
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
    }
    # This account's SMAs by pattern (the SMA itself would make the key depend on it)
    (source,) = grant["Condition"]["ArnLike"].values()
    assert source == "arn:aws:chime:us-east-1:" + ACCOUNT + ":sma/*"


def test_the_staging_bucket_is_private_unversioned_and_expires_within_a_day(
    template: Template, voice: ChimeVoice
) -> None:
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [Match.object_like({"ExpirationInDays": 1, "Status": "Enabled"})]
                )
            },
            "LoggingConfiguration": Match.object_like(
                {"DestinationBucketName": {"Ref": logical_id(voice.storage.access_logs)}}
            ),
            "VersioningConfiguration": Match.absent(),
        },
    )


def test_the_voicemail_bucket_is_kms_encrypted_versioned_and_logged(
    template: Template, voice: ChimeVoice, stack: QuietlineStack
) -> None:
    resource = template.to_json()["Resources"][logical_id(voice.storage.voicemail_bucket)]
    props = resource["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": [logical_id(stack.platform_key.key), "Arn"]
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": logical_id(voice.storage.access_logs)
    }
    assert resource["DeletionPolicy"] == "Retain"


def test_one_sip_rule_per_voice_number_targets_our_sma(
    template: Template, voice: ChimeVoice
) -> None:
    template.resource_count_is(SIP_RULE_TYPE, 1)
    template.has_resource_properties(
        SIP_RULE_TYPE,
        {
            "PhoneNumber": VOICE_NUMBER,
            "SipMediaApplicationId": {
                "Fn::GetAtt": [logical_id(voice.sip_media_application), "SipMediaApplicationId"]
            },
            "ServiceToken": {"Fn::GetAtt": [logical_id(voice.sip_rule_function.function), "Arn"]},
        },
    )


def test_the_sip_rule_role_can_manage_sip_rules_and_nothing_else_of_chime(
    raw: dict[str, Any], voice: ChimeVoice
) -> None:
    statements = _role_statements(raw, logical_id(voice.sip_rule_function.role))
    chime_actions = {a for s in statements for a in _actions(s) if a.startswith("chime:")}
    assert chime_actions == {
        "chime:CreateSipRule",
        "chime:UpdateSipRule",
        "chime:DeleteSipRule",
        "chime:GetSipRule",
    }
    # No number ordering or release, no SMA changes, no data: its only key use is its
    # own DLQ's, through SQS.
    every = {a for s in statements for a in _actions(s)}
    assert not {a for a in every if a.startswith(("s3:", "dynamodb:", "sns:"))}
    for statement in statements:
        if any(a.startswith("kms:") for a in _actions(statement)):
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert via.startswith("sqs.")


def test_call_control_reads_and_deletes_only_staged_objects(
    raw: dict[str, Any], voice: ChimeVoice
) -> None:
    statements = _role_statements(raw, logical_id(voice.call_control.role))
    staging = logical_id(voice.staging_bucket)
    deletes = [s for s in statements if "s3:DeleteObject" in _actions(s)]
    # The other delete is on the transcription bucket's own prefixes (tested below).
    staged = [s for s in deletes if staging in json.dumps(s["Resource"])]
    (delete,) = staged
    assert _actions(delete) == {"s3:GetObject", "s3:DeleteObject"}
    assert delete["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [staging, "Arn"]}, "/staged/*"]]}


def test_the_staff_api_may_place_calls_through_our_sma_only(
    raw: dict[str, Any], voice: ChimeVoice, stack: QuietlineStack
) -> None:
    statements = _role_statements(raw, logical_id(stack.staff_api.function.role))
    (place,) = [s for s in statements if "chime:CreateSipMediaApplicationCall" in _actions(s)]
    assert place["Resource"] == {
        "Fn::GetAtt": [logical_id(voice.sip_media_application), "SipMediaApplicationArn"]
    }
    env = resources(raw, "AWS::Lambda::Function")[logical_id(stack.staff_api.function.function)]
    names = set(env["Properties"]["Environment"]["Variables"])
    assert {
        settings.ENV_VOICEMAIL_BUCKET,
        settings.ENV_CHIME_SIP_MEDIA_APPLICATION_ID,
    } <= names
    # Click-to-call shows the voice number: the API knows which numbers cannot text.
    variables = env["Properties"]["Environment"]["Variables"]
    assert variables[settings.ENV_VOICE_ONLY_NUMBERS] == VOICE_NUMBER


def test_call_control_rings_only_live_staff_and_knows_the_voice_only_numbers(
    raw: dict[str, Any], voice: ChimeVoice, stack: QuietlineStack
) -> None:
    function = resources(raw, "AWS::Lambda::Function")[logical_id(voice.call_control.function)]
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[settings.ENV_USER_POOL_ID] == {"Ref": logical_id(stack.identity.user_pool)}
    assert variables[settings.ENV_VOICE_ONLY_NUMBERS] == VOICE_NUMBER
    statements = _role_statements(raw, logical_id(voice.call_control.role))
    (lookup,) = [s for s in statements if any(a.startswith("cognito-idp:") for a in _actions(s))]
    assert _actions(lookup) == {"cognito-idp:ListUsers"}
    assert lookup["Resource"] == {"Fn::GetAtt": [logical_id(stack.identity.user_pool), "Arn"]}


def test_every_voice_acknowledgement_names_a_rule_and_a_specific_reason(
    synthesized: Synthesized,
) -> None:
    suppressed = [
        v
        for plugin in synthesized.report["pluginReports"]
        for v in plugin.get("suppressedViolations", [])
        if "/Voice/" in str(v.get("constructPath", v))
    ]
    assert suppressed, "the staging bucket's SSE-S3 must be acknowledged, not silently passed"
    for violation in suppressed:
        assert len(str(violation)) > 80


# --- voicemail transcription (infra/constructs/transcription.py) ---------------------------------
def test_call_control_may_start_only_our_transcription_jobs(
    raw: dict[str, Any], voice: ChimeVoice, stack: QuietlineStack
) -> None:
    statements = _role_statements(raw, logical_id(voice.call_control.role))
    (jobs,) = [s for s in statements if any(a.startswith("transcribe:") for a in _actions(s))]
    assert _actions(jobs) == {
        "transcribe:StartTranscriptionJob",
        "transcribe:GetTranscriptionJob",
        "transcribe:DeleteTranscriptionJob",
    }
    assert jobs["Resource"] == (
        f"arn:aws:transcribe:us-east-1:{ACCOUNT}:transcription-job/quietline-vm-*"
    )
    bucket = logical_id(stack.voicemail.transcription.bucket)  # type: ignore[union-attr]
    on_bucket = [s for s in statements if bucket in json.dumps(s["Resource"])]
    (objects,) = on_bucket
    assert _actions(objects) == {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"}
    assert {json.dumps(r) for r in objects["Resource"]} == {
        json.dumps({"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, f"/{prefix}/*"]]})
        for prefix in ("staging", "output")
    }


def test_call_control_is_told_the_transcription_bucket_and_key(
    raw: dict[str, Any], voice: ChimeVoice, stack: QuietlineStack
) -> None:
    functions = resources(raw, "AWS::Lambda::Function")
    for fn in (voice.call_control.function, stack.staff_api.function.function):
        variables = functions[logical_id(fn)]["Properties"]["Environment"]["Variables"]
        bucket = logical_id(stack.voicemail.transcription.bucket)  # type: ignore[union-attr]
        assert variables[settings.ENV_TRANSCRIPTION_BUCKET] == {"Ref": bucket}
        assert variables[settings.ENV_TRANSCRIPTION_KMS_KEY_ID] == {
            "Fn::GetAtt": [logical_id(stack.platform_key.key), "Arn"]
        }


def test_the_transcription_bucket_is_kms_encrypted_unversioned_and_short_lived(
    template: Template, stack: QuietlineStack
) -> None:
    bucket = stack.voicemail.transcription.bucket  # type: ignore[union-attr]
    found = template.find_resources("AWS::S3::Bucket")[logical_id(bucket)]["Properties"]
    (rule,) = found["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [logical_id(stack.platform_key.key), "Arn"]},
    }
    assert "VersioningConfiguration" not in found  # a delete really deletes
    assert [r["ExpirationInDays"] for r in found["LifecycleConfiguration"]["Rules"]] == [1]
    assert found["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True


@pytest.mark.parametrize(
    "metric",
    ["TranscriptionStuck", "TranscriptionFailed", "TranscriptionStartFailed"],
)
def test_transcription_that_is_stuck_or_failing_raises_an_alarm(
    template: Template, stack: QuietlineStack, metric: str
) -> None:
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "Namespace": "Quietline",
            "MetricName": metric,
            "Threshold": 1,
            "AlarmActions": [{"Ref": logical_id(stack.alarms.topic)}],
        },
    )
