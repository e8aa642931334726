"""cdk-nag HIPAA Security + AWS Solutions: no open finding, every acknowledgement argued."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_logs as logs

from infra.app_factory import create_app
from infra.nag import MIN_REASON_LENGTH, acknowledge
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    Synthesized,
    acknowledgements,
    suppressed_violations,
)
from tests.infra.shared_acknowledgements import (
    BACKUP_ROLE_RULE,
    function_acknowledgements,
    live_update_acknowledgements,
    secure_link_acknowledgements,
    staff_and_audit_acknowledgements,
    web_hosting_acknowledgements,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

TRIVIAL_REASONS = {"not needed", "n/a", "ok", "false positive", "not applicable"}

# Reviewed list: a new acknowledgement must be added here on purpose.
# (The Twilio variant's list is in test_twilio.py.)
EXPECTED_APP_ACKNOWLEDGEMENTS = {
    (BACKUP_ROLE_RULE, "Quietline/Backups/Plan/MessageTable/Role"),
    # SendTextMessage on this account's numbers and pools (ids assigned outside the stack).
    *(
        (
            f"AwsSolutions-IAM5[Resource::arn:aws:sms-voice:{REGION}:{ACCOUNT}:{kind}/*]",
            f"Quietline/Messaging/{function}/Role/Policy",
        )
        for kind in ("phone-number", "pool")
        # The care pager texts the on-call clinician's cell from the practice's number.
        for function in ("Sender", "CarePager")
    ),
    # Per function (QuietlineFunction): outside the optional VPC, X-Ray's Resource::*,
    # the pinned runtime.
    *(
        ack
        for function in (
            "Sender",
            "RetryWorker",
            "Sweeper",
            "StaffNotifier",
            "CarePager",
            "Inbound",
            "DeliveryEvents",
        )
        for ack in function_acknowledgements(f"Quietline/Messaging/{function}")
    ),
    *function_acknowledgements("Quietline/Scheduler/ScheduleSweep"),
    # Staff API, user pool, audit table and trail (shared_acknowledgements.py).
    *staff_and_audit_acknowledgements(waf_enabled=False, trail=True),
    # The inbox hosted here (S3 + CloudFront) and the clients' secure-message path.
    *web_hosting_acknowledgements(),
    *secure_link_acknowledgements(waf_enabled=False),
    *live_update_acknowledgements(),
}
EXPECTED_FUNCTION_RULES = {
    "HIPAA.Security-LambdaInsideVPC",  # only where vpc.enabled is false
    "AwsSolutions-IAM5[Resource::*]",
    "AwsSolutions-L1",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSBackupServiceRolePolicyForBackup]",
}


_acknowledgements = acknowledgements
_suppressed = suppressed_violations


@pytest.fixture(params=["quietline", "function_stacks"])
def synthesized(request: pytest.FixtureRequest) -> Synthesized:
    found: Synthesized = request.getfixturevalue(request.param)
    return found


def test_synth_leaves_no_unacknowledged_finding(synthesized: Synthesized) -> None:
    # The fixture's synth would have raised; the report says the same.
    for plugin in synthesized.report["pluginReports"]:
        assert plugin["violations"] == [], plugin["pluginName"]
        assert plugin["conclusion"] == "success"


def test_every_acknowledgement_has_a_specific_reason(synthesized: Synthesized) -> None:
    acknowledgements = _acknowledgements(synthesized.app)
    assert acknowledgements
    for rule, path, reason in acknowledgements:
        assert len(reason) >= 40, (rule, path)  # a sentence, not "not needed"
        assert reason.lower().rstrip(".") not in TRIVIAL_REASONS, (rule, path)


def test_every_acknowledgement_matches_a_real_finding(synthesized: Synthesized) -> None:
    # A stale acknowledgement (the finding was fixed) should be removed, not kept.
    suppressed = {
        (v["acknowledgedId"].split("::", 1)[1], v["acknowledgedAt"])
        for v in _suppressed(synthesized.report)
    }
    for rule, path, _reason in _acknowledgements(synthesized.app):
        assert (rule, path) in suppressed


def test_report_keeps_the_reason_next_to_each_suppressed_finding(
    synthesized: Synthesized,
) -> None:
    for violation in _suppressed(synthesized.report):
        assert len(violation["reason"]) >= 40
        assert violation["violatingConstructs"]


def test_app_acknowledgements_are_the_reviewed_list(quietline: Synthesized) -> None:
    assert {(rule, path) for rule, path, _ in _acknowledgements(quietline.app)} == (
        EXPECTED_APP_ACKNOWLEDGEMENTS
    )


def test_function_acknowledgements_are_the_reviewed_list(function_stacks: Synthesized) -> None:
    acknowledged = _acknowledgements(function_stacks.app)

    assert {rule for rule, _, _ in acknowledged} == EXPECTED_FUNCTION_RULES
    inside_vpc_waived = {path for rule, path, _ in acknowledged if rule.endswith("LambdaInsideVPC")}
    assert inside_vpc_waived == {
        "FunctionsNoVpc/Inbound/Function",
        "FunctionsNoVpc/Sender/Function",
    }


def test_no_template_has_an_inline_iam_policy(synthesized: Synthesized) -> None:
    for stack_name in synthesized.templates:
        synthesized.template(stack_name).resource_count_is("AWS::IAM::Policy", 0)


def test_an_unacknowledged_finding_fails_synth(tmp_path: Path) -> None:
    # Given an app built like the real one, with a log group that has no KMS key
    app = create_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Leaky", env=cdk.Environment(account=ACCOUNT, region=REGION))
    logs.LogGroup(stack, "Plain", retention=logs.RetentionDays.SIX_YEARS)

    # When synthesizing, then cdk-nag stops it and names the HIPAA rule
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    report = (tmp_path / "validation-report.json").read_text(encoding="utf-8")
    assert "HIPAA.Security-CloudWatchLogGroupEncrypted" in report


@pytest.mark.parametrize("reason", ["not needed", "ok", "short reason"])
def test_acknowledge_rejects_a_vague_reason(reason: str) -> None:
    stack = cdk.Stack(cdk.App(), "Any")
    with pytest.raises(ValueError, match="specific reason"):
        acknowledge(stack, "HIPAA.Security-LambdaDLQ", reason)


def test_acknowledge_rejects_an_unknown_rule_pack() -> None:
    stack = cdk.Stack(cdk.App(), "Any")
    with pytest.raises(ValueError, match="rule pack"):
        acknowledge(stack, "NIST.800.53.R5-LambdaDLQ", "x" * MIN_REASON_LENGTH)
