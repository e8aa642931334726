"""The Twilio voice variant (carrier "twilio", voice.enabled): the voice routes on the
webhook API, the TwilioVoice function's settings and exact grants, the staff API's
click-to-call and playback wiring, the voice webhook URL output, and cdk-nag green.

One synth per session, in its own xdist group."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match, Template

from functions.carriers.twilio import SIGNATURE_HEADER
from functions.carriers.twilio_voice import INCOMING_PATH, VOICE_WEBHOOK_PATHS
from functions.core import settings as E
from infra.app_factory import build_app
from infra.constructs.function import QuietlineFunction
from infra.constructs.voicemail import VoicemailStorage
from infra.stack import QuietlineStack
from tests.infra import messaging_checks as checks
from tests.infra.conftest import (
    SKIP_BUNDLING,
    TWILIO_ACCOUNT_SID,
    Synthesized,
    _synthesize,
    acknowledgements,
    api_paths,
    arn,
    config_data,
    config_error,
    every_capture,
    get_att_arn,
    logical_id,
    make_config,
    quietline_stack,
    ref,
    resource,
    single,
    suppressed_violations,
)
from tests.infra.shared_acknowledgements import function_acknowledgements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth-twilio-voice")]

# Twilio numbers carry SMS and voice: the voice numbers are the numbers that text.
TEXTING_NUMBERS = ["+12065550100", "+12065550123"]
TWILIO_VOICE: dict[str, Any] = {
    "carrier": "twilio",
    "twilio": {"account_sid": TWILIO_ACCOUNT_SID},
    "voice": {"enabled": True, "numbers": TEXTING_NUMBERS},
}


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    outdir = tmp_path_factory.mktemp("twilio-voice-cdk.out")
    app, stack = build_app(make_config(**TWILIO_VOICE), outdir=str(outdir), context=SKIP_BUNDLING)
    return _synthesize(app, outdir, [stack])  # raises on any unacknowledged nag finding


@pytest.fixture(scope="module")
def stack(synthesized: Synthesized) -> QuietlineStack:
    return quietline_stack(synthesized)


@pytest.fixture(scope="module")
def template(synthesized: Synthesized, stack: QuietlineStack) -> Template:
    return synthesized.template(stack.stack_name)


@pytest.fixture(scope="module")
def voice_fn(stack: QuietlineStack) -> QuietlineFunction:
    fn = stack.messaging.twilio_voice
    assert fn is not None, "twilio with voice on deploys the voice webhook function"
    return fn


@pytest.fixture(scope="module")
def storage(stack: QuietlineStack) -> VoicemailStorage:
    assert stack.voicemail is not None, "voice on stores voicemail"
    return stack.voicemail


def _by_resource(template: Template, fn: QuietlineFunction) -> dict[str, set[str]]:
    """The role's grants as {resource (JSON): actions}, conditions checked separately."""
    found: dict[str, set[str]] = {}
    for statement in checks.function_statements(template, fn):
        assert statement["Effect"] == "Allow"
        for target in checks.as_list(statement["Resource"]):
            key = json.dumps(target, sort_keys=True)
            found.setdefault(key, set()).update(checks.actions(statement))
    return found


def _key(target: Any) -> str:
    return json.dumps(target, sort_keys=True)


def _objects(bucket_id: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [get_att_arn(bucket_id), f"/{pattern}"]]}


def _jobs_rule() -> str:
    return (
        "AwsSolutions-IAM5[Resource::arn:aws:transcribe:us-east-1:123456789012:"
        "transcription-job/quietline-vm-*]"
    )


def _transcription_object_rules(storage: VoicemailStorage) -> list[str]:
    bucket = logical_id(storage.transcription.bucket)
    return [f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{p}/*]" for p in ("staging", "output")]


# --- config ---------------------------------------------------------------------------------
def test_twilio_voice_accepts_the_numbers_that_text() -> None:
    config = make_config(**TWILIO_VOICE)

    assert config.voice.enabled
    assert config.voice.numbers == [n for t in config.tenants for n in t.business_numbers]


def test_twilio_voice_numbers_must_still_be_tenants_business_numbers() -> None:
    data = config_data(**{**TWILIO_VOICE, "voice": {"enabled": True, "numbers": ["+14155550100"]}})

    message = config_error(data)

    assert "voice.numbers" in message
    assert "+1415" not in message  # a number is never echoed


# --- nag ------------------------------------------------------------------------------------
def test_synth_leaves_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    for plugin in synthesized.report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]
        assert plugin["conclusion"] == "success"


def test_voice_acknowledgements_are_the_reviewed_list_with_specific_reasons(
    synthesized: Synthesized, storage: VoicemailStorage
) -> None:
    bucket = logical_id(storage.voicemail_bucket)
    objects_rule = f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/voicemail/*]"
    greetings_rule = f"AwsSolutions-IAM5[Resource::<{bucket}.Arn>/greetings/*]"
    expected = {
        *function_acknowledgements("Quietline/Messaging/TwilioVoice"),
        (objects_rule, "Quietline/Messaging/TwilioVoice/Role/Policy"),
        (objects_rule, "Quietline/StaffApi/Function/Role/Policy"),
        (greetings_rule, "Quietline/Messaging/TwilioVoice/Role/Policy"),
        (greetings_rule, "Quietline/StaffApi/Function/Role/Policy"),
        ("HIPAA.Security-S3BucketReplicationEnabled", "Quietline/Voice/VoicemailBucket"),
        ("HIPAA.Security-S3BucketReplicationEnabled", "Quietline/Voice/AccessLogBucket"),
        ("HIPAA.Security-S3DefaultEncryptionKMS", "Quietline/Voice/AccessLogBucket"),
        # Voicemail transcription (infra/constructs/transcription.py)
        (_jobs_rule(), "Quietline/Messaging/TwilioVoice/Role/Policy"),
        *(
            (rule, "Quietline/Messaging/TwilioVoice/Role/Policy")
            for rule in _transcription_object_rules(storage)
        ),
        ("HIPAA.Security-S3BucketReplicationEnabled", "Quietline/Voice/Transcription/Bucket"),
        ("HIPAA.Security-S3BucketVersioningEnabled", "Quietline/Voice/Transcription/Bucket"),
    }
    voice = [
        (rule, path, reason)
        for rule, path, reason in acknowledgements(synthesized.app)
        if path.startswith(("Quietline/Voice/", "Quietline/Messaging/TwilioVoice/"))
        or "voicemail" in rule
        or "greetings" in rule
    ]

    assert {(rule, path) for rule, path, _ in voice} == expected
    for rule, path, reason in voice:
        assert len(reason) >= 80, (rule, path)  # names why, not "not needed"
    suppressed = {
        (v["acknowledgedId"].split("::", 1)[1], v["acknowledgedAt"])
        for v in suppressed_violations(synthesized.report)
    }
    assert expected <= suppressed


# --- routes ---------------------------------------------------------------------------------
def test_every_voice_route_is_a_signed_post_to_the_voice_function(
    stack: QuietlineStack, template: Template, voice_fn: QuietlineFunction
) -> None:
    api = stack.messaging.webhook_api
    assert api is not None
    api_ref = ref(api.api)
    validator = single(template, "AWS::ApiGateway::RequestValidator", {"RestApiId": api_ref})
    path = Capture()

    voice_posts = template.find_resources(
        "AWS::ApiGateway::Method",
        {
            "Properties": {
                "RestApiId": api_ref,
                "HttpMethod": "POST",
                "AuthorizationType": "NONE",
                "RequestValidatorId": {"Ref": validator.logical_id},
                "RequestParameters": Match.object_equals(
                    {f"method.request.header.{SIGNATURE_HEADER}": True}
                ),
                "Integration": {
                    "Type": "AWS_PROXY",
                    "Uri": {"Fn::Join": ["", Match.array_with([arn(voice_fn.function)])]},
                },
                "ResourceId": {"Ref": path},
            }
        },
    )

    assert len(voice_posts) == len(VOICE_WEBHOOK_PATHS)
    by_id = {t["Ref"]: url for url, t in api_paths(template, api.api).items() if "Ref" in t}
    served = {by_id[found] for found in every_capture(path, Capture.as_string)}
    assert served == set(VOICE_WEBHOOK_PATHS)
    # The SMS routes stay the SMS function's: 2 + the voice routes, nothing else.
    template.resource_properties_count_is(
        "AWS::ApiGateway::Method", {"RestApiId": api_ref}, 2 + len(VOICE_WEBHOOK_PATHS)
    )


def test_only_the_webhook_stage_may_invoke_the_voice_function(
    stack: QuietlineStack, template: Template, voice_fn: QuietlineFunction
) -> None:
    api = stack.messaging.webhook_api
    assert api is not None
    source = Capture()

    template.find_resources(
        "AWS::Lambda::Permission",
        {"Properties": {"FunctionName": arn(voice_fn.function), "SourceArn": source}},
    )

    sources = [json.dumps(found) for found in every_capture(source, Capture.as_object)]
    # Each voice route from the stage (never the test-invoke "*"), and our own schedule.
    from_stage = [found for found in sources if logical_id(api.stage) in found]
    assert len(from_stage) == len(VOICE_WEBHOOK_PATHS)
    (schedule,) = [found for found in sources if found not in from_stage]
    assert "RecordingSweep" in schedule


def test_the_voice_webhook_url_output_is_the_incoming_route_on_the_stage(
    stack: QuietlineStack, template: Template
) -> None:
    api = stack.messaging.webhook_api
    assert api is not None
    parts = Capture()

    template.has_output(
        "TwilioVoiceWebhookUrl",
        {"Value": {"Fn::Join": ["", parts]}, "Description": Match.string_like_regexp("A call")},
    )

    assert ref(api.api) in parts.as_array()
    assert parts.as_array()[-1] == f"/prod{INCOMING_PATH}"


# --- the voice function ------------------------------------------------------------------------
def test_the_voice_function_s_environment_parses_through_its_entry_point(
    stack: QuietlineStack, template: Template, voice_fn: QuietlineFunction
) -> None:
    variables = checks.function_variables(template, voice_fn)

    parsed = checks.deployed_settings(variables, checks.function_handler(template, voice_fn))

    # What its container builds on a call (functions/container.py): each is there.
    for name in (
        "table_name",
        "outbound_queue_url",
        "audit_table_name",
        "staff_topic_arn",
        "voicemail_bucket",
        "twilio_account_sid",
        "twilio_auth_token_secret",
        "public_base_url",
    ):
        parsed.need(name)
    assert parsed.carrier == "twilio"
    assert parsed.twilio_account_sid == TWILIO_ACCOUNT_SID
    ours = {k for k in variables if not k.startswith(checks.POWERTOOLS_PREFIX)}
    assert ours <= checks.SETTINGS_ENV_NAMES
    assert E.ENV_VOICE_STAGING_BUCKET not in ours  # Chime's alone
    assert E.ENV_CHIME_SIP_MEDIA_APPLICATION_ID not in ours


def test_the_voice_function_points_at_our_bucket_secret_and_stage(
    stack: QuietlineStack,
    template: Template,
    voice_fn: QuietlineFunction,
    storage: VoicemailStorage,
) -> None:
    api, secret = stack.messaging.webhook_api, stack.messaging.twilio_auth_token
    assert api is not None and secret is not None
    base = Capture()

    resource(template, voice_fn.function).has_properties(
        {
            "Environment": {
                "Variables": {
                    E.ENV_VOICEMAIL_BUCKET: ref(storage.voicemail_bucket),
                    E.ENV_TWILIO_AUTH_TOKEN_SECRET: ref(secret),
                    E.ENV_AUDIT_TABLE_NAME: ref(stack.audit_log.table),
                    E.ENV_STAFF_TOPIC_ARN: ref(stack.messaging.staff.topic),
                    E.ENV_PUBLIC_BASE_URL: {"Fn::Join": ["", base]},
                    # It rings only enabled staff of the practice.
                    E.ENV_USER_POOL_ID: ref(stack.identity.user_pool),
                }
            }
        }
    )

    # The URL Twilio calls and signs: this API's stage, as the SMS sender has it.
    assert ref(api.api) in base.as_array()
    assert base.as_array()[-1].endswith("/prod")


def test_the_voice_function_has_exactly_its_grants(
    stack: QuietlineStack,
    template: Template,
    voice_fn: QuietlineFunction,
    storage: VoicemailStorage,
) -> None:
    found = _by_resource(template, voice_fn)
    table = logical_id(stack.message_store.table)
    audit = logical_id(stack.audit_log.table)
    secret = stack.messaging.twilio_auth_token
    assert secret is not None

    assert found.pop(_key(_objects(logical_id(storage.voicemail_bucket), "voicemail/*"))) == {
        "s3:PutObject",
        "s3:PutObjectTagging",
    }
    # Presigned <Play> URLs of the practice's greeting: read, and greetings/* only
    greetings = _objects(logical_id(storage.voicemail_bucket), "greetings/*")
    assert found.pop(_key(greetings)) == {"s3:GetObject"}
    assert found.pop(_key(ref(secret))) == {"secretsmanager:GetSecretValue"}
    assert found.pop(_key(ref(stack.messaging.staff.topic))) == {"sns:Publish"}
    pool = get_att_arn(logical_id(stack.identity.user_pool))
    assert found.pop(_key(pool)) == {"cognito-idp:ListUsers"}  # is this user live staff?
    assert "sqs:SendMessage" in found.pop(_key(arn(stack.queues.outbound.queue)))
    assert found.pop(_key(get_att_arn(audit))) >= {"dynamodb:PutItem", "dynamodb:Query"}
    assert "dynamodb:Scan" not in found.pop(_key(get_att_arn(table)))
    for tenant_key in stack.tenant_keys.keys.values():
        assert found.pop(_key(arn(tenant_key))) == {"kms:Decrypt", "kms:GenerateDataKey"}
    # Voicemail transcription: stage the audio, read and delete the output; our jobs only.
    transcription = logical_id(storage.transcription.bucket)
    for prefix in ("staging/*", "output/*"):
        assert found.pop(_key(_objects(transcription, prefix))) == {
            "s3:PutObject",
            "s3:GetObject",
            "s3:DeleteObject",
        }
    jobs = "arn:aws:transcribe:us-east-1:123456789012:transcription-job/quietline-vm-*"
    assert found.pop(_key(jobs)) == {
        "transcribe:StartTranscriptionJob",
        "transcribe:GetTranscriptionJob",
        "transcribe:DeleteTranscriptionJob",
    }
    # Nothing on any other bucket, no S3 action anywhere else, no Chime.
    every = {a for actions in found.values() for a in actions}
    assert not {a for a in every if a.startswith(("s3:", "chime:"))}
    assert all("*" not in a for a in every)


def test_the_staff_api_may_store_and_remove_greetings_only(
    stack: QuietlineStack, template: Template, storage: VoicemailStorage
) -> None:
    found = _by_resource(template, stack.staff_api.function)
    bucket = logical_id(storage.voicemail_bucket)

    assert found[_key(_objects(bucket, "greetings/*"))] == {"s3:PutObject", "s3:DeleteObject"}
    assert found[_key(_objects(bucket, "voicemail/*"))] == {"s3:GetObject"}  # playback only


def test_the_voice_function_uses_the_platform_key_only_through_services(
    stack: QuietlineStack, template: Template, voice_fn: QuietlineFunction
) -> None:
    platform = arn(stack.platform_key.key)
    services = set()
    for statement in checks.function_statements(template, voice_fn):
        if statement["Resource"] == platform:
            services.add(statement["Condition"]["StringEquals"]["kms:ViaService"].split(".")[0])

    # S3 for the voicemail and transcription buckets' SSE-KMS, Transcribe for its output
    # key, the rest as every pipeline function.
    assert services == {"s3", "transcribe", "sqs", "sns", "dynamodb", "secretsmanager"}


def test_the_voice_function_s_failures_land_in_an_alarmed_dlq(
    stack: QuietlineStack, template: Template, voice_fn: QuietlineFunction
) -> None:
    checks.check_every_dead_letter_queue_alarms_the_alarm_topic(stack, template)

    assert logical_id(voice_fn.dead_letter_queue) in checks.dead_letter_queue_ids(template)


def test_a_burst_of_forged_voice_webhooks_raises_an_alarm(
    stack: QuietlineStack, template: Template
) -> None:
    threshold = Capture()

    single(
        template,
        "AWS::CloudWatch::Alarm",
        {"Namespace": "Quietline", "MetricName": "VoiceWebhookSignatureRejected"},
    ).has_properties(
        {"Threshold": threshold, "Period": 300, "AlarmActions": [ref(stack.alarms.topic)]}
    )

    assert threshold.as_number() >= 10


# --- the staff API: playback and click-to-call through Twilio ----------------------------------
def test_the_staff_api_can_call_through_twilio_and_play_voicemail(
    stack: QuietlineStack, template: Template, storage: VoicemailStorage
) -> None:
    api = stack.staff_api.function
    secret = stack.messaging.twilio_auth_token
    assert secret is not None
    variables = checks.function_variables(template, api)
    parsed = checks.deployed_settings(variables, checks.function_handler(template, api))

    for name in ("voicemail_bucket", "twilio_account_sid", "twilio_auth_token_secret"):
        parsed.need(name)
    assert (
        variables[E.ENV_PUBLIC_BASE_URL]
        == checks.function_variables(template, stack.messaging.sender)[E.ENV_PUBLIC_BASE_URL]
    )
    found = _by_resource(template, api)
    voicemail = _objects(logical_id(storage.voicemail_bucket), "voicemail/*")
    assert found[_key(voicemail)] == {"s3:GetObject"}
    assert found[_key(ref(secret))] == {"secretsmanager:GetSecretValue"}
    every = {a for actions in found.values() for a in actions}
    assert not {a for a in every if a.startswith("chime:")}


# --- nothing of Chime's ---------------------------------------------------------------------------
def test_twilio_voice_deploys_no_chime_resource_and_no_staging_bucket(
    stack: QuietlineStack, template: Template, storage: VoicemailStorage
) -> None:
    assert stack.voice is None
    for resource_type in ("AWS::Chime::SipMediaApplication", "Custom::ChimeSipRule"):
        template.resource_count_is(resource_type, 0)
    buckets = set(template.find_resources("AWS::S3::Bucket", {}))
    voice_buckets = {b for b in buckets if b.startswith("Voice")}
    assert voice_buckets == {
        logical_id(storage.voicemail_bucket),
        logical_id(storage.access_logs),
        logical_id(storage.transcription.bucket),
    }
