"""Practice-admin commands: users, contacts import, wipe, retention, export, status, send.

They run the same logic as the API (functions/logic), as an admin of the tenant named on
the command line, with the AWS identity running the CLI recorded as the audit actor.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from typing import Any

import boto3
import click

from cli.target import Target
from functions import wiring
from functions.core import settings
from functions.core.clock import iso
from functions.crypto.envelope import EnvelopeCipher
from functions.dal.kms_keys import KmsDataKeyProvider
from functions.logic.access import Principal, Role
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.export import open_sealed

# Stack output -> the environment variable the functions' settings read.
_ENV_FROM_OUTPUTS = {
    "MessageTableName": settings.ENV_TABLE_NAME,
    "AuditTableName": settings.ENV_AUDIT_TABLE_NAME,
    "UserPoolId": settings.ENV_USER_POOL_ID,
    "OutboundQueueUrl": settings.ENV_OUTBOUND_QUEUE_URL,
}


def use_target(target: Target) -> None:
    """Point the functions' settings at the target's resources, as the Lambdas see them."""
    for output, variable in _ENV_FROM_OUTPUTS.items():
        if output in target.outputs:
            os.environ[variable] = target.outputs[output]
    for cached in (
        settings.core_settings,
        settings.messaging_settings,
        settings.api_settings,
        settings.audit_settings,
    ):
        cached.cache_clear()
    wiring.reset()


def operator(tenant_id: str) -> Principal:
    """The person running the CLI, as an admin of `tenant_id`, named by their AWS identity."""
    try:
        arn = boto3.client("sts").get_caller_identity()["Arn"]
    except Exception:  # local mode and tests have no real identity
        arn = os.environ.get("USER", "operator")
    now = int(time.time())
    return Principal(f"cli:{arn}", tenant_id, Role.ADMIN, f"cli-{now}", now)


def register(main: click.Group, target_of: Any, one_line_errors: Any) -> None:  # noqa: PLR0915
    """Attach the admin commands to the `quietline` group."""

    def prepared(ctx: click.Context, tenant: str) -> Principal:
        use_target(target_of(ctx))
        return operator(tenant)

    @main.group()
    def users() -> None:
        """Staff accounts: invite, disable (lost device), enable, sign out everywhere."""

    @users.command("list")
    @click.option("--tenant", required=True)
    @click.pass_context
    @one_line_errors
    def users_list(ctx: click.Context, tenant: str) -> None:
        """List the tenant's staff."""
        for user in wiring.staff_admin_service().list_users(prepared(ctx, tenant)):
            state = "enabled" if user.enabled else "DISABLED"
            click.echo(f"{user.user_id}  {user.role:<9}  {state:<8}  {user.email}")

    @users.command("invite")
    @click.option("--tenant", required=True)
    @click.option("--email", required=True)
    @click.option(
        "--role", type=click.Choice([r.value for r in Role]), default="clinician", show_default=True
    )
    @click.pass_context
    @one_line_errors
    def users_invite(ctx: click.Context, tenant: str, email: str, role: str) -> None:
        """Invite staff: Cognito e-mails a temporary password; MFA is set up at first sign-in."""
        user = wiring.staff_admin_service().invite(prepared(ctx, tenant), email, Role(role))
        click.echo(f"invited {user.user_id} ({user.role})")

    for name, verb, help_text in (
        ("disable", "disable", "Disable a user and end every session at once (a lost device)."),
        ("enable", "enable", "Enable a disabled user."),
        ("sign-out", "sign_out", "Sign a user out everywhere: every existing token stops working."),
    ):
        _user_action(users, name, verb, help_text, prepared, one_line_errors)

    @main.group()
    def contacts() -> None:
        """Clients of a tenant."""

    @contacts.command("import")
    @click.option("--tenant", required=True)
    @click.argument("csv_file", type=click.File("r", encoding="utf-8"))
    @click.pass_context
    @one_line_errors
    def contacts_import(ctx: click.Context, tenant: str, csv_file: Any) -> None:
        """Import contacts from CSV.

        Columns: phone_number, display_name, consent_mode, consent_wording_version. Good
        rows are imported; bad rows are listed by line number (field and rule, never the
        value). Exit 1 if any row was rejected.
        """
        report = wiring.admin_service().import_contacts(prepared(ctx, tenant), csv_file.read())
        click.echo(
            f"imported {report.imported}, already present {report.already_present}, "
            f"rejected {len(report.rejected)}"
        )
        for row in report.rejected:
            click.echo(f"  line {row.line}: {row.field}: {row.problem}", err=True)
        if report.rejected:
            raise SystemExit(1)

    @main.group()
    def wipe() -> None:
        """Destroy data on purpose: one client's thread, or a whole tenant (crypto-shred)."""

    @wipe.command("thread")
    @click.option("--tenant", required=True)
    @click.option("--contact", "contact_id", required=True, help="The contact (conversation) id.")
    @click.pass_context
    @one_line_errors
    def wipe_thread(ctx: click.Context, tenant: str, contact_id: str) -> None:
        """Delete a client's details and every message of their thread (audited)."""
        deleted = wiring.admin_service().wipe_thread(prepared(ctx, tenant), contact_id)
        click.echo(f"deleted the contact and {deleted} message(s)")

    @wipe.command("tenant")
    @click.option("--tenant", required=True)
    @click.option("--confirm", "confirmation", required=True, help="Type the tenant id again.")
    @click.option("--days", default=30, show_default=True, help="KMS waiting period, 7-30 days.")
    @click.pass_context
    @one_line_errors
    def wipe_tenant(ctx: click.Context, tenant: str, confirmation: str, days: int) -> None:
        """Crypto-shred a tenant: refused at once, its key deleted after the waiting period.

        To undo within the waiting period: aws kms cancel-key-deletion and enable-key on
        alias/quietline/<tenant>, then set the tenant active again.
        """
        date = wiring.admin_service().wipe_tenant(
            prepared(ctx, tenant), confirmation=confirmation, days=days
        )
        click.echo(f"tenant {tenant} wiped: refused now; its key will be deleted on {date}")

    tenants: Any = main.commands["tenants"]

    @tenants.command("retention")
    @click.option("--tenant", required=True)
    @click.argument("days", type=int)
    @click.pass_context
    @one_line_errors
    def tenants_retention(ctx: click.Context, tenant: str, days: int) -> None:
        """Change message retention for messages written from now on (audited)."""
        wiring.admin_service().set_retention(prepared(ctx, tenant), days)
        click.echo(f"tenant {tenant}: new messages kept {days} days")

    @main.group()
    def export() -> None:
        """Record exports: encrypted FHIR R4 bundles for record requests or leaving Quietline."""

    @export.command("create")
    @click.option("--tenant", required=True)
    @click.option(
        "--contact", "contact_id", help="One client's thread (default: the whole tenant)."
    )
    @click.option("--output", type=click.File("w"), required=True)
    @click.pass_context
    @one_line_errors
    def export_create(ctx: click.Context, tenant: str, contact_id: str | None, output: Any) -> None:
        """Write an export encrypted under the tenant's KMS key."""
        output.write(wiring.admin_service().export(prepared(ctx, tenant), contact_id=contact_id))
        click.echo("export written (open it with: quietline export open FILE)", err=True)

    @export.command("open")
    @click.argument("sealed", type=click.File("r"))
    @click.option(
        "--output", type=click.File("w"), default="-", help="Where to write the FHIR JSON."
    )
    @click.pass_context
    @one_line_errors
    def export_open(ctx: click.Context, sealed: Any, output: Any) -> None:
        """Decrypt an export (needs permission to use the tenant's KMS key)."""
        target_of(ctx)  # local mode points boto3 at moto
        bundle = open_sealed(EnvelopeCipher(KmsDataKeyProvider()), sealed.read())
        output.write(json.dumps(bundle, indent=2) + "\n")

    @main.command()
    @click.pass_context
    @one_line_errors
    def status(ctx: click.Context) -> None:
        """Deployment health: outputs, alarms in ALARM, dead-letter queue depths."""
        target = target_of(ctx)
        click.echo(target.name)
        for key in sorted(target.outputs):
            click.echo(f"  {key}: {target.outputs[key]}")
        sqs = boto3.client("sqs")
        for key in sorted(k for k in target.outputs if k.endswith("DlqUrl")):
            depth = sqs.get_queue_attributes(
                QueueUrl=target.outputs[key], AttributeNames=["ApproximateNumberOfMessages"]
            )
            click.echo(f"  {key[:-3]} depth: {depth['Attributes']['ApproximateNumberOfMessages']}")
        try:
            alarms = boto3.client("cloudwatch").describe_alarms(StateValue="ALARM")["MetricAlarms"]
        except Exception:  # local mode has no CloudWatch
            alarms = []
        click.echo(f"  alarms in ALARM: {len(alarms)}")
        for alarm in alarms:
            click.echo(f"    {alarm['AlarmName']}")

    @main.command()
    @click.option("--tenant", required=True)
    @click.option("--contact", "contact_id", required=True)
    @click.argument("body")
    @click.pass_context
    @one_line_errors
    def send(ctx: click.Context, tenant: str, contact_id: str, body: str) -> None:
        """Send a text to a contact (consent and opt-out enforced, as in the inbox)."""
        who = prepared(ctx, tenant)
        message = wiring.inbox_service().send(who, contact_id, body)
        _audited(who, "message.send", {"conversation_id": contact_id})
        click.echo(
            f"queued {message.message_id} ({message.segments} segment(s), {message.encoding})"
        )

    @main.command()
    @click.option("--tenant", required=True)
    @click.option("--limit", default=25, show_default=True)
    @click.pass_context
    @one_line_errors
    def conversations(ctx: click.Context, tenant: str, limit: int) -> None:
        """List conversations by last activity (a PHI read: audited like the API's)."""
        who = prepared(ctx, tenant)
        page = wiring.inbox_service().list_conversations(who, limit=limit, cursor=None)
        _audited(who, "conversation.list", {})
        for view in page.items:
            click.echo(json.dumps(asdict(view)))


def _audited(who: Principal, action: str, target: dict[str, str]) -> None:
    wiring.audit_sink().record(
        AuditEvent(
            action,
            Outcome.SUCCESS,
            who.user_id,
            who.tenant_id,
            iso(wiring.clock().now()),
            target=target,
        )
    )


def _user_action(
    group: click.Group, name: str, verb: str, help_text: str, prepared: Any, one_line_errors: Any
) -> None:
    @group.command(name, help=help_text)
    @click.option("--tenant", required=True)
    @click.argument("user_id")
    @click.pass_context
    @one_line_errors
    def command(ctx: click.Context, tenant: str, user_id: str) -> None:
        getattr(wiring.staff_admin_service(), verb)(prepared(ctx, tenant), user_id)
        click.echo(f"{name}: done for {user_id}")
