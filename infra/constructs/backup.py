"""AWS Backup for the stores that hold PHI: encrypted, retained, deletion-blocked vault."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.alarms import Alarms
from infra.nag import acknowledge

# 164.308(a)(7)(ii)(A) data backup plan: daily copies for 35 days, monthly for a year.
_DAILY_RETENTION = cdk.Duration.days(35)
_MONTHLY_RETENTION = cdk.Duration.days(365)


class Backups(Construct):
    """A backup vault and plan; `protect()` adds a DynamoDB table to the plan."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        alarms: Alarms,
    ) -> None:
        super().__init__(scope, id)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            # Recovery points are PHI: encrypted under the practice's key.
            encryption_key=platform_key,
            removal_policy=cdk.RemovalPolicy.RETAIN,
            # The vault's access policy denies manual deletion of recovery points, so a
            # backup cannot be quietly removed before its lifecycle expires it.
            block_recovery_point_deletion=True,
            # A failed or expired backup job reaches the alarm recipients.
            notification_topic=alarms.topic,
            notification_events=[
                backup.BackupVaultEvents.BACKUP_JOB_FAILED,
                backup.BackupVaultEvents.BACKUP_JOB_EXPIRED,
                backup.BackupVaultEvents.RESTORE_JOB_FAILED,
            ],
        )
        self.plan = backup.BackupPlan(
            self,
            "Plan",
            backup_plan_name=f"{config.stack_name}-phi",
            backup_vault=self.vault,
            backup_plan_rules=[
                self._rule("Daily", events.Schedule.cron(hour="5", minute="0"), _DAILY_RETENTION),
                self._rule(
                    "Monthly",
                    events.Schedule.cron(day="1", hour="5", minute="0"),
                    _MONTHLY_RETENTION,
                ),
            ],
        )

    def protect(self, id: str, table: dynamodb.ITable) -> backup.BackupSelection:
        """Back the table up under both rules (HIPAA.Security-DynamoDBInBackupPlan)."""
        selection = self.plan.add_selection(
            id, resources=[backup.BackupResource.from_dynamo_db_table(table)]
        )
        acknowledge(
            selection.node.find_child("Role"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSBackupServiceRolePolicyForBackup]",
            "AWS Backup's service role uses the AWS-maintained AWSBackupServiceRolePolicyForBackup"
            " policy: AWS updates it when Backup needs new permissions for DynamoDB and KMS,"
            " and a hand-copied policy that drifts would make backups fail.",
        )
        return selection

    @staticmethod
    def _rule(
        name: str, schedule: events.Schedule, retention: cdk.Duration
    ) -> backup.BackupPlanRule:
        return backup.BackupPlanRule(
            rule_name=name,
            schedule_expression=schedule,
            delete_after=retention,
            start_window=cdk.Duration.hours(1),
            completion_window=cdk.Duration.hours(8),
        )
