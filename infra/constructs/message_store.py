"""The DynamoDB message store, built from functions/dal/schema.py (the one definition).

Local mode creates its moto table from the same schema module, so key names, indexes
and TTL cannot drift between a laptop and the deployed table.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from functions.dal import schema
from infra.config import QuietlineConfig
from infra.tables import protected_table, string_attribute

# Exactly the item actions the DAL uses (TransactWriteItems is authorized per item
# action). No Scan; BatchWriteItem has its own grant (grant_batch_delete).
_READ_ACTIONS = ("dynamodb:GetItem", "dynamodb:Query")
# A tenant profile and a conversation in one read (functions/dal/store/waves.py): on the
# table alone, since a batch read never goes to an index.
_BATCH_READ_ACTIONS = ("dynamodb:BatchGetItem",)
_WRITE_ACTIONS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# What DynamoDB may do with the table key on a caller's behalf: CDK's table grants,
# spelled out without wildcards (GenerateDataKey* would include key pairs).
_KEY_READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey")
_KEY_WRITE_ACTIONS = (
    "kms:Encrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
)


class MessageStore(Construct):
    """Conversations, messages, consent and idempotency records of every tenant.

    PHI fields inside items are envelope-encrypted with the tenant's key by the Lambda
    code before they are written; the table's own encryption is a second layer.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, platform_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self._platform_key = platform_key
        self.table = protected_table(
            self,
            platform_key=platform_key,
            partition_key=schema.PARTITION_KEY,
            sort_key=schema.SORT_KEY,
            # Staff hear of new inbound texts from it, off the request path; why new
            # images and not keys only: functions/dal/schema.py MESSAGE_STREAM_VIEW.
            stream=dynamodb.StreamViewType(schema.MESSAGE_STREAM_VIEW),
        )
        for index in schema.GLOBAL_INDEXES:
            self._add_index(index)

    def _add_index(self, index: schema.GlobalIndex) -> None:
        self.table.add_global_secondary_index(
            index_name=index.name,
            partition_key=string_attribute(index.partition_key),
            sort_key=string_attribute(index.sort_key),
            projection_type=dynamodb.ProjectionType.ALL,
        )

    def grant_read_data(self, grantee: iam.IGrantable) -> None:
        """Get, batch-get and query items (table and each index), decrypt through DynamoDB."""
        self._grant(grantee, _READ_ACTIONS, _KEY_READ_ACTIONS)

    def grant_read_write_data(self, grantee: iam.IGrantable) -> None:
        """Read, put, update, delete and condition-check items; no table management."""
        self._grant(grantee, _READ_ACTIONS + _WRITE_ACTIONS, _KEY_READ_ACTIONS + _KEY_WRITE_ACTIONS)

    @property
    def stream_arn(self) -> str:
        arn = self.table.table_stream_arn
        assert arn is not None, "the table is built with its stream"
        return arn

    def grant_stream_read(self, grantee: iam.IGrantable) -> None:
        """What a Lambda event source mapping reads the stream with (the function's role):
        exactly the four stream actions, on this table's stream only, and the table key
        (the stream is encrypted with it) through DynamoDB only."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            resource_arns=[self.stream_arn],
        )
        self._grant_key(grantee, ("kms:Decrypt",))

    def grant_read_tenant_profiles(self, grantee: iam.IGrantable) -> None:
        """GetItem on the tenant partitions only (profile: the practice's name), decrypting
        through DynamoDB. The partitions hold conversations too, whose PHI fields are
        envelope-encrypted under tenant keys this grant does not include."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:GetItem"],
            resource_arns=[self.table.table_arn],
            conditions={
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"{schema.TENANT_PARTITION_PREFIX}*"]
                }
            },
        )
        self._grant_key(grantee, _KEY_READ_ACTIONS)

    def grant_tenant_items(
        self, grantee: iam.IGrantable, actions: tuple[str, ...], *, write: bool
    ) -> None:
        """`actions` on the table (not its indexes), on the tenant partitions only, and the
        table key through DynamoDB. The partitions' PHI fields are envelope-encrypted under
        tenant keys this grant does not include."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(actions),
            resource_arns=[self.table.table_arn],
            conditions={
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"{schema.TENANT_PARTITION_PREFIX}*"]
                }
            },
        )
        self._grant_key(grantee, _KEY_READ_ACTIONS + (_KEY_WRITE_ACTIONS if write else ()))

    def grant_passkey_sign_in(self, grantee: iam.IGrantable) -> None:
        """Passkey sign-in (functions/dal/passkeys.py): read a user's public keys and record
        their use, in the passkey partitions only (PASSKEY#*), nothing else of the table."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:Query", "dynamodb:UpdateItem"],
            resource_arns=[self.table.table_arn],
            conditions={
                "ForAllValues:StringLike": {
                    "dynamodb:LeadingKeys": [f"{schema.PASSKEY_PARTITION_PREFIX}*"]
                }
            },
        )
        self._grant_key(grantee, _KEY_READ_ACTIONS + _KEY_WRITE_ACTIONS)

    def grant_live_items(self, grantee: iam.IGrantable) -> None:
        """The live-update tickets and sockets (functions/dal/live.py): their partitions
        only (LIVE*), never a tenant's conversations or messages."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=[
                "dynamodb:PutItem",
                "dynamodb:DeleteItem",
                "dynamodb:Query",
                "dynamodb:BatchWriteItem",
            ],
            resource_arns=[self.table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["LIVE*"]}},
        )
        self._grant_key(grantee, _KEY_READ_ACTIONS + _KEY_WRITE_ACTIONS)

    def grant_batch_delete(self, grantee: iam.IGrantable) -> None:
        """dynamodb:BatchWriteItem on the table (not its indexes): deleting a client's
        whole thread (MessageStore.delete_conversation) in batches of 25. IAM cannot
        narrow BatchWriteItem to deletes; the grantee already holds PutItem/DeleteItem."""
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["dynamodb:BatchWriteItem"],
            resource_arns=[self.table.table_arn],
        )

    def _grant(
        self, grantee: iam.IGrantable, table_actions: tuple[str, ...], key_actions: tuple[str, ...]
    ) -> None:
        # Index ARNs one by one rather than CDK's "<table>/index/*" (AwsSolutions-IAM5).
        index_arns = [
            f"{self.table.table_arn}/index/{index.name}" for index in schema.GLOBAL_INDEXES
        ]
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(table_actions),
            resource_arns=[self.table.table_arn, *index_arns],
        )
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(_BATCH_READ_ACTIONS),
            resource_arns=[self.table.table_arn],
        )
        self._grant_key(grantee, key_actions)

    def _grant_key(self, grantee: iam.IGrantable, key_actions: tuple[str, ...]) -> None:
        # The table key only through DynamoDB: a function cannot use it directly.
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(key_actions),
            resource_arns=[self._platform_key.key_arn],
            conditions={
                "StringEquals": {
                    "kms:ViaService": f"dynamodb.{cdk.Stack.of(self).region}.amazonaws.com"
                }
            },
        )
