"""Properties every carrier variant of the messaging pipeline must have.

test_messaging.py (carrier "aws") and test_twilio.py (carrier "twilio") call these on
their own synthesized template, so both variants are held to the same rules.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

from functions.core import settings
from functions.dal import schema
from functions.handlers._entry import EntryPoint
from infra.constructs.function import QuietlineFunction
from infra.stack import QuietlineStack
from tests.infra.conftest import as_list, get_att_arn, logical_id, resources, statements

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
        "inbound": messaging.inbound,
        "delivery_events": messaging.delivery_events,
        "webhook": messaging.webhook,
    }
    return {name: fn for name, fn in candidates.items() if fn is not None}


def function_statements(template: dict[str, Any], fn: QuietlineFunction) -> list[dict[str, Any]]:
    policy = template["Resources"][logical_id(fn.role.policy)]
    return statements(policy["Properties"]["PolicyDocument"])


def all_policy_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of every identity policy in the template (managed, inline, role)."""
    found: list[dict[str, Any]] = []
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            found += statements(props["PolicyDocument"])
        elif resource["Type"] == "AWS::IAM::Role":
            for inline in props.get("Policies", []):
                found += statements(inline["PolicyDocument"])
    return found


def actions(statement: dict[str, Any]) -> set[str]:
    return set(as_list(statement["Action"]))


def granted(statements_: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [s for s in statements_ if s["Effect"] == "Allow" and action in actions(s)]


def tenant_key_arns(stack: QuietlineStack) -> dict[str, dict[str, Any]]:
    """tenant id -> the template's GetAtt of its key ARN."""
    return {
        tenant_id: get_att_arn(logical_id(key)) for tenant_id, key in stack.tenant_keys.keys.items()
    }


def tenant_key_statements(
    stack: QuietlineStack, statements_: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    keys = list(tenant_key_arns(stack).values())
    return [s for s in statements_ if any(r in keys for r in as_list(s["Resource"]))]


# --- checks -------------------------------------------------------------------------
def check_one_role_per_function(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    roles = [str(fn["Properties"]["Role"]) for fn in functions.values()]
    assert len(set(roles)) == len(roles), "two functions share a role"
    role_ids = {fn["Properties"]["Role"]["Fn::GetAtt"][0] for fn in functions.values()}
    for role_id in role_ids:
        role = template["Resources"][role_id]["Properties"]
        assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
            "Service": "lambda.amazonaws.com"
        }
        assert "ManagedPolicyArns" not in role
        assert "Policies" not in role


def check_no_scan_and_no_wildcard_action(template: dict[str, Any]) -> None:
    every = all_policy_statements(template)
    assert every
    for statement in every:
        for action in actions(statement):
            assert "*" not in action, statement
            assert action != "dynamodb:Scan", statement


def check_tenant_key_grants_name_their_tenant(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    arns = tenant_key_arns(stack)
    grants = tenant_key_statements(stack, all_policy_statements(template))
    assert grants
    for grant in grants:
        (tenant_id,) = [t for t, arn in arns.items() if arn == grant["Resource"]]
        assert grant["Condition"] == {
            "StringEquals": {"kms:EncryptionContext:tenant_id": tenant_id}
        }
        assert actions(grant) <= {"kms:Decrypt", "kms:GenerateDataKey"}


def check_tenant_key_actions(
    stack: QuietlineStack, template: dict[str, Any], expected: dict[str, set[str]]
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


def check_platform_key_only_through_services(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    """No function may call KMS on the platform key directly, only via an AWS service."""
    platform = get_att_arn(logical_id(stack.platform_key.key))
    for name, fn in messaging_functions(stack).items():
        for statement in function_statements(template, fn):
            if statement["Resource"] == platform:
                via = statement["Condition"]["StringEquals"]["kms:ViaService"]
                assert via.split(".")[0] in {"sqs", "sns", "dynamodb", "secretsmanager"}, name


def check_exclusive_action(
    template: dict[str, Any], action: str, allowed_roles: set[str]
) -> list[dict[str, Any]]:
    """Only the given roles' policies (by Roles of the managed policy) grant `action`."""
    holders = set()
    found = []
    for policy in resources(template, "AWS::IAM::ManagedPolicy").values():
        grants = granted(statements(policy["Properties"]["PolicyDocument"]), action)
        if grants:
            holders.update(role["Ref"] for role in policy["Properties"]["Roles"])
            found += grants
    assert holders == allowed_roles, (action, holders)
    return found


def check_environment(
    stack: QuietlineStack, template: dict[str, Any], expected: dict[str, set[str]]
) -> None:
    """Each function gets exactly the settings names its code path reads, nothing else."""
    functions = messaging_functions(stack)
    assert set(functions) == set(expected)
    for name, fn in functions.items():
        variables = template["Resources"][logical_id(fn.function)]["Properties"]["Environment"][
            "Variables"
        ]
        ours = {key for key in variables if not key.startswith(POWERTOOLS_PREFIX)}
        assert ours <= SETTINGS_ENV_NAMES, (name, ours - SETTINGS_ENV_NAMES)
        assert ours == expected[name], (name, ours ^ expected[name])
        if settings.ENV_TABLE_NAME in ours:
            assert variables[settings.ENV_TABLE_NAME] == {
                "Ref": logical_id(stack.message_store.table)
            }
        for env, queue in (
            (settings.ENV_OUTBOUND_QUEUE_URL, stack.queues.outbound.queue),
            (settings.ENV_RETRY_QUEUE_URL, stack.queues.retry.queue),
        ):
            if env in ours:
                assert variables[env] == {"Ref": logical_id(queue)}, (name, env)
        if settings.ENV_STAFF_TOPIC_ARN in ours:
            assert variables[settings.ENV_STAFF_TOPIC_ARN] == {
                "Ref": logical_id(stack.messaging.staff.topic)
            }
        if settings.ENV_CARRIER in ours:
            assert variables[settings.ENV_CARRIER] == stack.config.carrier


def dead_letter_queue_ids(template: dict[str, Any]) -> set[str]:
    """Every queue something sends its failures to: SQS redrive, Lambda, EventBridge."""
    found: set[str] = set()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in props:
            found.add(props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0])
        elif resource["Type"] == "AWS::Lambda::Function" and "DeadLetterConfig" in props:
            found.add(props["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0])
        elif resource["Type"] == "AWS::Events::Rule":
            for target in props.get("Targets", []):
                found.add(target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])
    return found


def check_every_dead_letter_queue_alarms_the_alarm_topic(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    topic = {"Ref": logical_id(stack.alarms.topic)}
    alarms = resources(template, "AWS::CloudWatch::Alarm").values()
    queues = dead_letter_queue_ids(template)
    assert queues
    for queue_id in queues:
        dimension = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
        matching = [
            a["Properties"] for a in alarms if a["Properties"].get("Dimensions") == dimension
        ]
        assert len(matching) == 1, queue_id
        (alarm,) = matching
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert alarm["Namespace"] == "AWS/SQS"
        assert alarm["EvaluationPeriods"] == 1
        assert 60 <= alarm["Period"] <= 300
        assert alarm["TreatMissingData"] == "notBreaching"
        # Fires on the first message: "> 0" and ">= 1" are the same for a count.
        assert (alarm["ComparisonOperator"], alarm["Threshold"]) in {
            ("GreaterThanThreshold", 0),
            ("GreaterThanOrEqualToThreshold", 1),
        }
        assert topic in alarm["AlarmActions"]


def check_topics_and_queues_use_customer_managed_keys(template: dict[str, Any]) -> None:
    keys = set(resources(template, "AWS::KMS::Key"))
    encrypted = [
        *(
            t["Properties"]["KmsMasterKeyId"]
            for t in resources(template, "AWS::SNS::Topic").values()
        ),
        *(
            q["Properties"]["KmsMasterKeyId"]
            for q in resources(template, "AWS::SQS::Queue").values()
        ),
    ]
    assert encrypted
    for key_ref in encrypted:
        assert key_ref["Fn::GetAtt"][0] in keys, key_ref
        assert key_ref["Fn::GetAtt"][1] == "Arn"


def check_queues_and_topics_deny_plain_http(template: dict[str, Any]) -> None:
    denied: set[str] = set()
    for policy_type, key in (
        ("AWS::SQS::QueuePolicy", "Queues"),
        ("AWS::SNS::TopicPolicy", "Topics"),
    ):
        for policy in resources(template, policy_type).values():
            denies = [
                s
                for s in statements(policy["Properties"]["PolicyDocument"])
                if s["Effect"] == "Deny"
                and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            ]
            if denies:
                denied.update(ref["Ref"] for ref in policy["Properties"][key])
    expected = set(resources(template, "AWS::SQS::Queue")) | set(
        resources(template, "AWS::SNS::Topic")
    )
    assert denied == expected, expected - denied


def _mappings(template: dict[str, Any], *, of_streams: bool) -> list[dict[str, Any]]:
    return [
        m["Properties"]
        for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        if ("StartingPosition" in m["Properties"]) == of_streams
    ]


def check_event_source_mappings(stack: QuietlineStack, template: dict[str, Any]) -> None:
    mappings = _mappings(template, of_streams=False)
    sources = {
        logical_id(stack.messaging.sender.function): stack.queues.outbound,
        logical_id(stack.messaging.retry_worker.function): stack.queues.retry,
    }
    assert {m["FunctionName"]["Ref"] for m in mappings} == set(sources)
    for props in mappings:
        function_id = props["FunctionName"]["Ref"]
        queue = sources[function_id]
        function = template["Resources"][function_id]["Properties"]
        assert props["EventSourceArn"] == get_att_arn(logical_id(queue.queue))
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BatchSize"] == 10
        assert props["MaximumBatchingWindowInSeconds"] == 0
        # AWS: visibility timeout >= 6x the function timeout; polling never throttled.
        assert function["Timeout"] * 6 <= queue.spec.visibility_seconds
        assert (
            props["ScalingConfig"]["MaximumConcurrency"] <= function["ReservedConcurrentExecutions"]
        )


def check_staff_notifier_reads_the_message_stream(
    stack: QuietlineStack, template: dict[str, Any]
) -> None:
    """The only stream consumer: inbound message inserts only, resumable, bounded, and what
    it gives up on lands in its own alarmed, platform-key DLQ."""
    notifier = stack.messaging.staff_notifier
    table = logical_id(stack.message_store.table)
    (props,) = _mappings(template, of_streams=True)
    assert props["FunctionName"] == {"Ref": logical_id(notifier.function)}
    assert props["EventSourceArn"] == {"Fn::GetAtt": [table, "StreamArn"]}
    assert template["Resources"][table]["Properties"]["StreamSpecification"] == {
        "StreamViewType": schema.MESSAGE_STREAM_VIEW
    }
    (criteria,) = props["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == schema.NEW_INBOUND_MESSAGE_FILTER
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert 0 < props["MaximumRetryAttempts"] <= 5
    assert 60 <= props["MaximumRecordAgeInSeconds"] <= 6 * 3600
    dlq = logical_id(notifier.dead_letter_queue)
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": get_att_arn(dlq)}}
    assert dlq in dead_letter_queue_ids(template)
    queue = template["Resources"][dlq]["Properties"]
    assert queue["KmsMasterKeyId"] == get_att_arn(logical_id(stack.platform_key.key))


def check_staff_notifier_role(stack: QuietlineStack, template: dict[str, Any]) -> None:
    """Exactly: read the stream, get tenant profiles, publish to the staff topic, send to
    its DLQ; the platform key only through DynamoDB, SNS and SQS; no tenant key."""
    notifier = stack.messaging.staff_notifier
    table = logical_id(stack.message_store.table)
    stream = {"Fn::GetAtt": [table, "StreamArn"]}
    found: dict[str, set[str]] = {}
    for statement in function_statements(template, notifier):
        assert statement["Effect"] == "Allow"
        for resource in as_list(statement["Resource"]):
            found.setdefault(json.dumps(resource, sort_keys=True), set()).update(actions(statement))
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


def deployed_settings(function: dict[str, Any]) -> settings.Settings:
    """A function's variables (tokens as placeholders) parsed as its entry point parses them
    at its first invocation: every setting its code requires is there and valid."""
    variables = function["Properties"]["Environment"]["Variables"]
    environ = {k: v if isinstance(v, str) else f"resolved-{k}" for k, v in variables.items()}
    module = importlib.import_module(function["Properties"]["Handler"].rsplit(".", 1)[0])
    entry: EntryPoint = module.handler
    return settings.Settings.from_environ(environ, required=entry.required)


def check_settings_load(stack: QuietlineStack, template: dict[str, Any], name: str) -> None:
    fn = messaging_functions(stack)[name]
    parsed = deployed_settings(template["Resources"][logical_id(fn.function)])
    assert parsed.table_name == "resolved-" + settings.ENV_TABLE_NAME
