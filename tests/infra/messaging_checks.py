"""Properties every carrier variant of the messaging pipeline must have.

test_messaging.py (carrier "aws") and test_twilio.py (carrier "twilio") call these on
their own synthesized template, so both variants are held to the same rules.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from aws_cdk.assertions import Capture, Match, Template

from functions.core import settings
from functions.dal import schema
from functions.handlers._entry import EntryPoint
from infra.constructs.function import QuietlineFunction
from infra.stack import QuietlineStack
from tests.infra.conftest import (
    arn,
    as_list,
    every_capture,
    get_att_arn,
    logical_id,
    ref,
    resource,
    resource_by_id,
    single,
)

# Every ENV_* name functions/core/settings.py reads: the CDK <-> code contract.
SETTINGS_ENV_NAMES = frozenset(
    value for name, value in vars(settings).items() if name.startswith("ENV_")
)
POWERTOOLS_PREFIX = "POWERTOOLS_"


def messaging_functions(stack: QuietlineStack) -> dict[str, QuietlineFunction]:
    """The pipeline's functions by role name; carrier-specific ones only when deployed."""
    messaging = stack.messaging
    candidates = {
        "sender": messaging.sender,
        "retry_worker": messaging.retry_worker,
        "sweeper": messaging.sweeper,
        "staff_notifier": messaging.staff_notifier,
        "care_pager": stack.care_pager.function,
        "inbound": messaging.inbound,
        "delivery_events": messaging.delivery_events,
        "webhook": messaging.webhook,
    }
    return {name: fn for name, fn in candidates.items() if fn is not None}


def function_statements(template: Template, fn: QuietlineFunction) -> list[dict[str, Any]]:
    return resource(template, fn.role.policy).statements()


def function_variables(template: Template, fn: QuietlineFunction) -> dict[str, Any]:
    """The function's environment variables."""
    variables = Capture()
    resource(template, fn.function).has_properties({"Environment": {"Variables": variables}})
    found: dict[str, Any] = dict(variables.as_object())
    return found


def managed_policies(template: Template) -> list[tuple[list[Any], list[dict[str, Any]]]]:
    """(Roles, statements) of every customer-managed policy."""
    roles, statements = Capture(), Capture()
    template.all_resources_properties(
        "AWS::IAM::ManagedPolicy", {"Roles": roles, "PolicyDocument": {"Statement": statements}}
    )
    return list(
        zip(
            every_capture(roles, Capture.as_array),
            every_capture(statements, Capture.as_array),
            strict=True,
        )
    )


def all_policy_statements(template: Template) -> list[dict[str, Any]]:
    """Statements of every identity policy in the template (managed, inline, role)."""
    found: list[dict[str, Any]] = [
        s for _, statements in managed_policies(template) for s in statements
    ]
    inline, documents = Capture(), Capture()
    if template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyDocument": {"Statement": inline}}}
    ):
        found += [s for statements in every_capture(inline, Capture.as_array) for s in statements]
    if template.find_resources("AWS::IAM::Role", {"Properties": {"Policies": documents}}):
        for policies in every_capture(documents, Capture.as_array):
            found += [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement["Action"]))


def granted(statements_: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements_ if s["Effect"] == "Allow" and action in actions(s)]


def tenant_key_arns(stack: QuietlineStack) -> dict[str, dict[str, Any]]:
    """tenant id -> the template's GetAtt of its key ARN."""
    return {tenant_id: arn(key) for tenant_id, key in stack.tenant_keys.keys.items()}


def tenant_key_statements(
    stack: QuietlineStack, statements_: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    keys = list(tenant_key_arns(stack).values())
    return [s for s in statements_ if any(r in keys for r in as_list(s["Resource"]))]


# --- checks -------------------------------------------------------------------------
def check_one_role_per_function(template: Template) -> None:
    role = Capture()
    template.all_resources_properties(
        "AWS::Lambda::Function", {"Role": {"Fn::GetAtt": [role, "Arn"]}}
    )
    role_ids = every_capture(role, Capture.as_string)
    assert len(set(role_ids)) == len(role_ids), "two functions share a role"
    for role_id in role_ids:
        resource_by_id(template, "AWS::IAM::Role", role_id).has_properties(
            {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {"Principal": Match.object_equals({"Service": "lambda.amazonaws.com"})}
                    ]
                },
                "ManagedPolicyArns": Match.absent(),
                "Policies": Match.absent(),
            }
        )


def check_no_scan_and_no_wildcard_action(template: Template) -> None:
    every = all_policy_statements(template)
    assert every
    for statement in every:
        for action in actions(statement):
            assert "*" not in action, statement
            assert action != "dynamodb:Scan", statement


def check_tenant_key_grants_name_their_tenant(stack: QuietlineStack, template: Template) -> None:
    arns = tenant_key_arns(stack)
    grants = tenant_key_statements(stack, all_policy_statements(template))
    assert grants
    for grant in grants:
        (tenant_id,) = [t for t, arn in arns.items() if arn == grant["Resource"]]
        # The tenant always; a grant may narrow further to one field (the care pager's
        # forwarding cells), never widen.
        assert grant["Condition"] in (
            {"StringEquals": {"kms:EncryptionContext:tenant_id": tenant_id}},
            {
                "StringEquals": {
                    "kms:EncryptionContext:tenant_id": tenant_id,
                    "kms:EncryptionContext:field": "forwarding_number",
                }
            },
        )
        assert actions(grant) <= {"kms:Decrypt", "kms:GenerateDataKey"}


def check_tenant_key_actions(
    stack: QuietlineStack, template: Template, expected: dict[str, set[str]]
) -> None:
    """Each function's tenant-key actions, for every tenant alike."""
    for name, fn in messaging_functions(stack).items():
        grants = tenant_key_statements(stack, function_statements(template, fn))
        by_key: dict[str, set[str]] = {}
        for grant in grants:
            by_key.setdefault(str(grant["Resource"]), set()).update(actions(grant))
        if expected[name]:
            assert len(by_key) == len(stack.tenant_keys.keys), name
            assert all(found == expected[name] for found in by_key.values()), (name, by_key)
        else:
            assert by_key == {}, name


def check_platform_key_only_through_services(stack: QuietlineStack, template: Template) -> None:
    """No function may call KMS on the platform key directly, only via an AWS service."""
    platform = arn(stack.platform_key.key)
    for name, fn in messaging_functions(stack).items():
        for statement in function_statements(template, fn):
            if statement["Resource"] == platform:
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                assert via.split(".")[0] in {"sqs", "sns", "dynamodb", "secretsmanager"}, name


def check_exclusive_action(
    template: Template, action: str, allowed_roles: set[str]
) -> list[dict[str, Any]]:
    """Only the given roles' policies (by Roles of the managed policy) grant `action`."""
    holders: set[str] = set()
    found = []
    for roles, statements in managed_policies(template):
        grants = granted(statements, action)
        if grants:
            holders.update(role["Ref"] for role in roles)
            found += grants
    assert holders == allowed_roles, (action, holders)
    return found


def check_environment(
    stack: QuietlineStack, template: Template, expected: dict[str, set[str]]
) -> None:
    """Each function gets exactly the settings names its code path reads, nothing else."""
    functions = messaging_functions(stack)
    assert set(functions) == set(expected)
    for name, fn in functions.items():
        variables = function_variables(template, fn)
        ours = {key for key in variables if not key.startswith(POWERTOOLS_PREFIX)}
        assert ours <= SETTINGS_ENV_NAMES, (name, ours - SETTINGS_ENV_NAMES)
        assert ours == expected[name], (name, ours ^ expected[name])
        references = {
            settings.ENV_TABLE_NAME: ref(stack.message_store.table),
            settings.ENV_OUTBOUND_QUEUE_URL: ref(stack.queues.outbound.queue),
            settings.ENV_RETRY_QUEUE_URL: ref(stack.queues.retry.queue),
            settings.ENV_STAFF_TOPIC_ARN: ref(stack.messaging.staff.topic),
            settings.ENV_CARRIER: stack.config.carrier,
        }
        resource(template, fn.function).has_properties(
            {
                "Environment": {
                    "Variables": {env: value for env, value in references.items() if env in ours}
                }
            }
        )


def dead_letter_queue_ids(template: Template) -> set[str]:
    """Every queue something sends its failures to: SQS redrive, Lambda, EventBridge."""
    redrive, function_dlq, rule_targets = Capture(), Capture(), Capture()
    found: set[str] = set()
    if template.find_resources(
        "AWS::SQS::Queue",
        {
            "Properties": {
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [redrive, "Arn"]}}
            }
        },
    ):
        found.update(every_capture(redrive, Capture.as_string))
    if template.find_resources(
        "AWS::Lambda::Function",
        {"Properties": {"DeadLetterConfig": {"TargetArn": {"Fn::GetAtt": [function_dlq, "Arn"]}}}},
    ):
        found.update(every_capture(function_dlq, Capture.as_string))
    if template.find_resources("AWS::Events::Rule", {"Properties": {"Targets": rule_targets}}):
        for targets in every_capture(rule_targets, Capture.as_array):
            found.update(target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0] for target in targets)
    return found


def check_every_dead_letter_queue_alarms_the_alarm_topic(
    stack: QuietlineStack, template: Template
) -> None:
    topic = ref(stack.alarms.topic)
    queues = dead_letter_queue_ids(template)
    assert queues
    for queue_id in queues:
        dimension = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
        alarm = single(template, "AWS::CloudWatch::Alarm", {"Dimensions": Match.exact(dimension)})
        alarm.has_properties(
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Namespace": "AWS/SQS",
                "EvaluationPeriods": 1,
                "TreatMissingData": "notBreaching",
                "AlarmActions": Match.array_with([topic]),
            }
        )
        period, comparison, threshold = Capture(), Capture(), Capture()
        alarm.has_properties(
            {"Period": period, "ComparisonOperator": comparison, "Threshold": threshold}
        )
        assert 60 <= period.as_number() <= 300
        # Fires on the first message: "> 0" and ">= 1" are the same for a count.
        assert (comparison.as_string(), threshold.as_number()) in {
            ("GreaterThanThreshold", 0),
            ("GreaterThanOrEqualToThreshold", 1),
        }


def check_topics_and_queues_use_customer_managed_keys(template: Template) -> None:
    keys = set(template.find_resources("AWS::KMS::Key"))
    key_id = Capture()
    # Every topic and queue names a key of this template by its ARN.
    for resource_type in ("AWS::SNS::Topic", "AWS::SQS::Queue"):
        template.all_resources_properties(
            resource_type, {"KmsMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
        )
    assert set(every_capture(key_id, Capture.as_string)) <= keys


def check_queues_and_topics_deny_plain_http(template: Template) -> None:
    deny_plain_http = {
        "PolicyDocument": {
            "Statement": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Effect": "Deny",
                            "Condition": Match.object_equals(
                                {"Bool": {"aws:SecureTransport": "false"}}
                            ),
                        }
                    )
                ]
            )
        }
    }
    denied: set[str] = set()
    for policy_type, key in (
        ("AWS::SQS::QueuePolicy", "Queues"),
        ("AWS::SNS::TopicPolicy", "Topics"),
    ):
        targets = Capture()
        if template.find_resources(policy_type, {"Properties": {**deny_plain_http, key: targets}}):
            for refs in every_capture(targets, Capture.as_array):
                denied.update(target["Ref"] for target in refs)
    expected = set(template.find_resources("AWS::SQS::Queue")) | set(
        template.find_resources("AWS::SNS::Topic")
    )
    assert denied == expected, expected - denied


def _mappings(template: dict[str, Any], *, of_streams: bool) -> list[dict[str, Any]]:
    return [
        m["Properties"]
        for m in template["Resources"].values()
        if m["Type"] == "AWS::Lambda::EventSourceMapping"
        and ("StartingPosition" in m["Properties"]) == of_streams
    ]


def check_event_source_mappings(stack: QuietlineStack, template: Template) -> None:
    consumers = {
        stack.messaging.sender: stack.queues.outbound,
        stack.messaging.retry_worker: stack.queues.retry,
    }
    queue_mappings = template.find_resources(
        "AWS::Lambda::EventSourceMapping",
        {"Properties": {"EventSourceArn": {"Fn::GetAtt": [Match.any_value(), "Arn"]}}},
    )
    # The queue consumers' (the audit sealer's stream mapping: tests/infra/test_audit.py).
    assert len(
        [m for m in queue_mappings.values() if "StartingPosition" not in m["Properties"]]
    ) == len(consumers)
    for fn, queue in consumers.items():
        timeout, reserved, maximum = Capture(), Capture(), Capture()
        resource(template, fn.function).has_properties(
            {"Timeout": timeout, "ReservedConcurrentExecutions": reserved}
        )
        single(
            template, "AWS::Lambda::EventSourceMapping", {"FunctionName": ref(fn.function)}
        ).has_properties(
            {
                "EventSourceArn": arn(queue.queue),
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "BatchSize": 10,
                "MaximumBatchingWindowInSeconds": 0,
                "ScalingConfig": {"MaximumConcurrency": maximum},
            }
        )
        # AWS: visibility timeout >= 6x the function timeout; polling never throttled.
        visibility = Capture()
        resource(template, queue.queue).has_properties({"VisibilityTimeout": visibility})
        assert timeout.as_number() * 6 <= visibility.as_number()
        assert maximum.as_number() <= reserved.as_number()


def check_staff_notifier_reads_the_message_stream(
    stack: QuietlineStack,
    assertions: Template,
    consumer: QuietlineFunction | None = None,
    pattern: dict[str, Any] = schema.NEW_INBOUND_MESSAGE_FILTER,
) -> None:
    """A message table's stream consumer (the staff notifier unless named): the records
    `pattern` admits only, resumable, bounded, and what it gives up on lands in its own
    alarmed, platform-key DLQ."""
    template = assertions.to_json()
    notifier = consumer or stack.messaging.staff_notifier
    table = logical_id(stack.message_store.table)
    (props,) = [
        m
        for m in _mappings(template, of_streams=True)
        if m["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
        and m["FunctionName"] == {"Ref": logical_id(notifier.function)}
    ]
    assert props["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert template["Resources"][table]["Properties"]["StreamSpecification"] == {
        "StreamViewType": schema.MESSAGE_STREAM_VIEW
    }
    (criteria,) = props["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == pattern
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 5
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 6 * 3600
    dlq = logical_id(notifier.dead_letter_queue)
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": get_att_arn(dlq)}}
    assert dlq in dead_letter_queue_ids(assertions)
    queue = template["Resources"][dlq]["Properties"]
    assert queue["KmsMasterKeyId"] == get_att_arn(logical_id(stack.platform_key.key))


def check_staff_notifier_role(stack: QuietlineStack, assertions: Template) -> None:
    """Exactly: read the stream, get tenant profiles, publish to the staff topic, send to
    its DLQ; the platform key only through DynamoDB, SNS and SQS; no tenant key."""
    notifier = stack.messaging.staff_notifier
    table = logical_id(stack.message_store.table)
    stream = {"Fn::GetAtt": [table, "StreamArn"]}
    found: dict[str, set[str]] = {}
    for statement in function_statements(assertions, notifier):
        assert statement["Effect"] == "Allow"
        for target in as_list(statement["Resource"]):
            found.setdefault(json.dumps(target, sort_keys=True), set()).update(actions(statement))
        if "dynamodb:GetItem" in actions(statement):
            assert statement["Condition"] == {
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"{schema.TENANT_PARTITION_PREFIX}*"]
                }
            }

    def key(resource: Any) -> str:
        return json.dumps(resource, sort_keys=True)

    assert found.pop(key(stream)) == {
        "dynamodb:DescribeStream",
        "dynamodb:GetRecords",
        "dynamodb:GetShardIterator",
        "dynamodb:ListStreams",
    }
    assert found.pop(key(get_att_arn(table))) == {"dynamodb:GetItem"}
    assert found.pop(key({"Ref": logical_id(stack.messaging.staff.topic)})) == {"sns:Publish"}
    assert found.pop(key(get_att_arn(logical_id(notifier.dead_letter_queue)))) == {
        "sqs:SendMessage"
    }
    assert found.pop(key(get_att_arn(logical_id(stack.platform_key.key)))) == {
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKey",
    }
    assert found.pop(key(get_att_arn(logical_id(notifier.log_group)))) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert found == {key("*"): {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}}


def deployed_settings(variables: dict[str, Any], handler: str) -> settings.Settings:
    """A function's variables (tokens as placeholders) parsed as its entry point parses them
    at its first invocation: every setting its code requires is there and valid."""
    environ = {k: v if isinstance(v, str) else f"resolved-{k}" for k, v in variables.items()}
    entry: EntryPoint = importlib.import_module(handler.rsplit(".", 1)[0]).handler
    return settings.Settings.from_environ(environ, required=entry.required)


def function_handler(template: Template, fn: QuietlineFunction) -> str:
    handler = Capture()
    resource(template, fn.function).has_properties({"Handler": handler})
    return handler.as_string()


def check_settings_load(stack: QuietlineStack, template: Template, name: str) -> None:
    fn = messaging_functions(stack)[name]
    parsed = deployed_settings(function_variables(template, fn), function_handler(template, fn))
    assert parsed.table_name == "resolved-" + settings.ENV_TABLE_NAME


def check_voice_off_deploys_nothing_of_voice(stack: QuietlineStack, template: Template) -> None:
    """voice.enabled false: no voice resource, route, setting or output (no idle cost)."""
    assert stack.voicemail is None and stack.voice is None
    assert stack.messaging.twilio_voice is None
    raw = json.dumps(template.to_json())
    for trace in (
        "AWS::Chime::",
        "Custom::ChimeSipRule",
        settings.ENV_VOICEMAIL_BUCKET,
        settings.ENV_VOICE_STAGING_BUCKET,
        "VoiceWebhookSignatureRejected",
        "TwilioVoiceWebhookUrl",
        '"PathPart": "voice"',
    ):
        assert trace not in raw, trace
    assert not [b for b in template.find_resources("AWS::S3::Bucket") if b.startswith("Voice")]
