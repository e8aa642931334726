"""An IAM role whose every grant lands in its own customer-managed policy."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import Construct


class ManagedPolicyRole(iam.Role):
    """A role with no inline policy: `grant_*` calls add to one customer-managed policy.

    HIPAA.Security-IAMNoInlinePolicy: CDK grants normally create an inline DefaultPolicy;
    a managed policy is versioned and reviewable on its own. It is attached to this role
    only, so it grants exactly what the role was granted, nothing shared.
    AwsSolutions-IAM4: no AWS managed policy is attached.
    """

    def __init__(
        self, scope: Construct, id: str, *, assumed_by: iam.IPrincipal, description: str
    ) -> None:
        super().__init__(scope, id, assumed_by=assumed_by, description=description)
        self.policy = iam.ManagedPolicy(
            self, "Policy", description=f"Permissions of: {description}"[:1000], roles=[self]
        )

    # Overrides Role.addToPrincipalPolicy, which every CDK grant goes through (jsii calls back).
    def add_to_principal_policy(
        self, statement: iam.PolicyStatement
    ) -> iam.AddToPrincipalPolicyResult:
        self.policy.add_statements(statement)
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=self.policy)
