"""cdk-nag 3 on every synth: the rule packs, and the one way to acknowledge a finding.

cdk-nag 3 runs as a CDK validation plugin: any finding that is not acknowledged makes
`app.synth()` (and `cdk synth`) fail, and `cdk.out/validation-report.json` lists every
acknowledged finding with its reason and construct path, which is the audit trail.
"""

from __future__ import annotations

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, HIPAASecurityChecks
from constructs import IConstruct

# Rule ids carry the pack name before the first '-': "HIPAA.Security-LambdaDLQ",
# "AwsSolutions-IAM5[Resource::*]". The plugin namespace is the same pack name.
RULE_PACKS = ("HIPAA.Security", "AwsSolutions")
MIN_REASON_LENGTH = 40
_TRIVIAL_REASONS = frozenset({"not needed", "n/a", "not applicable", "ok", "false positive"})


def register_nag_packs(app: cdk.App) -> None:
    """HIPAA Security + AWS Solutions checks on every stack of `app`."""
    cdk.Validations.of(app).add_plugins(HIPAASecurityChecks(app), AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on `scope` (and its children) with its reason.

    The id is written with its plugin namespace ("HIPAA.Security::HIPAA.Security-...").
    In that form CDK itself matches it to the finding and records the finding, reason
    and path under `suppressedViolations` in validation-report.json; the bare form
    would make cdk-nag drop the finding before it reaches the report.
    """
    pack = rule_id.split("-", 1)[0]
    if pack not in RULE_PACKS:
        raise ValueError(f"unknown cdk-nag rule pack in '{rule_id}'")
    text = reason.strip()
    if len(text) < MIN_REASON_LENGTH or text.lower().rstrip(".") in _TRIVIAL_REASONS:
        raise ValueError(f"acknowledgement of {rule_id} needs a specific reason")
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=f"{pack}::{rule_id}", reason=text))
