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

import click

from cli.output import STDOUT, atomic_output
from cli.target import Target
from functions.container import Container
from functions.core.clock import iso
from functions.logic.access import Principal, Role
from functions.logic.audit import AuditEvent, Outcome
from functions.logic.export import open_sealed
from infra.config import load_config


def operator(target: Target, tenant_id: str) -> Principal:
    """The person running the CLI, as an admin of `tenant_id`, named by their AWS identity."""
    try:
        arn = target.client("sts").get_caller_identity()["Arn"]
    except Exception:  # local mode and tests have no real identity
        arn = os.environ.get("USER", "operator")
    now = int(time.time())
    return Principal(f"cli:{arn}", tenant_id, Role.ADMIN, f"cli-{now}", now)


def register(main: click.Group, target_of: Any, one_line_errors: Any) -> None:  # noqa: PLR0915
    """Attach the admin commands to the `quietline` group."""

    def prepared(ctx: click.Context, tenant: str) -> tuple[Container, Principal]:
        """The target's services, and the operator acting as an admin of `tenant`."""
        target: Target = target_of(ctx)
        return target.container(load_config()), operator(target, tenant)

    @main.group()
    def users() -> None:
        """Staff accounts: invite, disable (lost device), enable, sign out everywhere."""

    @users.command("list")
    @click.option("--tenant", required=True)
    @click.pass_context
    @one_line_errors
    def users_list(ctx: click.Context, tenant: str) -> None:
        """List the tenant's staff."""
        runtime, who = prepared(ctx, tenant)
        for user in runtime.staff_admin_service().list_users(who):
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
        runtime, who = prepared(ctx, tenant)
        user = runtime.staff_admin_service().invite(who, email, Role(role))
        click.echo(f"invited {user.user_id} ({user.role})")

    for name, verb, help_text in (
        ("disable", "disable", "Disable a user and end every session at once (a lost device)."),
        ("enable", "enable", "Enable a disabled user."),
        ("sign-out", "sign_out", "Sign a user out everywhere: every existing token stops working."),
    ):
        _user_action(users, name, verb, help_text, prepared, one_line_errors)

    @users.command("revoke-passkeys")
    @click.option("--tenant", required=True)
    @click.argument("user_id")
    @click.pass_context
    @one_line_errors
    def users_revoke_passkeys(ctx: click.Context, tenant: str, user_id: str) -> None:
        """Remove every passkey of a user (a lost phone); their PIN and sign-in still work."""
        runtime, who = prepared(ctx, tenant)
        count = runtime.passkeys().revoke_all(who, user_id)
        _audited(runtime, who, "passkey.revoke", {"user_id": user_id})
        click.echo(f"revoke-passkeys: {count} removed for {user_id}")

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
        runtime, who = prepared(ctx, tenant)
        report = runtime.admin_service().import_contacts(who, csv_file.read())
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
        runtime, who = prepared(ctx, tenant)
        deleted = runtime.admin_service().wipe_thread(who, contact_id)
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
        runtime, who = prepared(ctx, tenant)
        date = runtime.admin_service().wipe_tenant(who, confirmation=confirmation, days=days)
        click.echo(f"tenant {tenant} wiped: refused now; its key will be deleted on {date}")

    tenants: Any = main.commands["tenants"]

    @tenants.command("retention")
    @click.option("--tenant", required=True)
    @click.argument("days", type=int)
    @click.pass_context
    @one_line_errors
    def tenants_retention(ctx: click.Context, tenant: str, days: int) -> None:
        """Change message retention for messages written from now on (audited)."""
        runtime, who = prepared(ctx, tenant)
        runtime.admin_service().set_retention(who, days)
        click.echo(f"tenant {tenant}: new messages kept {days} days")

    @main.group()
    def export() -> None:
        """Record exports: encrypted FHIR R4 bundles for record requests or leaving Quietline."""

    @export.command("create")
    @click.option("--tenant", required=True)
    @click.option(
        "--contact", "contact_id", help="One client's thread (default: the whole tenant)."
    )
    @click.option("--output", required=True, help="File to write (`-`: stdout).")
    @click.pass_context
    @one_line_errors
    def export_create(ctx: click.Context, tenant: str, contact_id: str | None, output: str) -> None:
        """Write an export encrypted under the tenant's KMS key."""
        runtime, who = prepared(ctx, tenant)
        sealed = runtime.admin_service().export(who, contact_id=contact_id)
        with atomic_output(output) as stream:
            stream.write(sealed)
        click.echo("export written (open it with: quietline export open FILE)", err=True)

    @export.command("open")
    @click.argument("sealed", type=click.File("r"))
    @click.option(
        "--output", default=STDOUT, help="Where to write the FHIR JSON (default: stdout)."
    )
    @click.pass_context
    @one_line_errors
    def export_open(ctx: click.Context, sealed: Any, output: str) -> None:
        """Decrypt an export (needs permission to use the tenant's KMS key)."""
        target: Target = target_of(ctx)
        bundle = open_sealed(target.container(load_config()).cipher(), sealed.read())
        with atomic_output(output) as stream:
            stream.write(json.dumps(bundle, indent=2) + "\n")

    @main.command()
    @click.pass_context
    @one_line_errors
    def status(ctx: click.Context) -> None:
        """Deployment health: outputs, alarms in ALARM, dead-letter queue depths."""
        target = target_of(ctx)
        click.echo(target.name)
        for key in sorted(target.outputs):
            click.echo(f"  {key}: {target.outputs[key]}")
        sqs = target.client("sqs")
        for key in sorted(k for k in target.outputs if k.endswith("DlqUrl")):
            depth = sqs.get_queue_attributes(
                QueueUrl=target.outputs[key], AttributeNames=["ApproximateNumberOfMessages"]
            )
            click.echo(f"  {key[:-3]} depth: {depth['Attributes']['ApproximateNumberOfMessages']}")
        try:
            alarms = target.client("cloudwatch").describe_alarms(StateValue="ALARM")["MetricAlarms"]
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
        runtime, who = prepared(ctx, tenant)
        message = runtime.inbox_service().send(who, contact_id, body)
        _audited(runtime, who, "message.send", {"conversation_id": contact_id})
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
        runtime, who = prepared(ctx, tenant)
        page = runtime.inbox_service().list_conversations(who, limit=limit, cursor=None)
        _audited(runtime, who, "conversation.list", {})
        for view in page.items:
            click.echo(json.dumps(asdict(view)))


def _audited(runtime: Container, who: Principal, action: str, target: dict[str, str]) -> None:
    runtime.audit_sink().record(
        AuditEvent(
            action,
            Outcome.SUCCESS,
            who.user_id,
            who.tenant_id,
            iso(runtime.clock().now()),
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
        runtime, who = prepared(ctx, tenant)
        getattr(runtime.staff_admin_service(), verb)(who, user_id)
        click.echo(f"{name}: done for {user_id}")
