"""`quietline`: operator commands. Errors are one line (exit 1) unless --debug."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cli.admin import register as register_admin_commands
from cli.audit import describe, recorded_event_keys, trail_check, trail_events, write_export
from cli.backups import restore_to_new_table
from cli.local_mode import LocalModeRunningError
from cli.local_mode import register as register_local_mode_commands
from cli.output import STDOUT, atomic_output
from cli.push import register as register_push_commands
from cli.replay import redrive_queue, reinvoke_function
from cli.target import Target, TargetError, local_target, stack_target
from cli.voice_numbers import register as register_voice_numbers
from cli.web import publish, site_objects, web_config
from functions.core.clock import SystemClock
from functions.core.errors import QuietlineError
from functions.dal.audit_log import DynamoDbAuditLog
from functions.logic.audit_chain import unsealed_events, verify_tenant
from functions.logic.audit_seal import seal_batch
from functions.logic.tenants import provision_tenant
from infra.config import REPO_ROOT, ConfigError, load_config

EXIT_ERROR = 1


def _one_line(error: Exception) -> str:
    """What the operator reads: our errors as they are, AWS's by code, anything else by type."""
    if isinstance(
        error, (TargetError, ConfigError, QuietlineError, OSError, LocalModeRunningError)
    ):
        return str(error)
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "unknown")
        return f"AWS refused the call ({code}); check the credentials and the target"
    if isinstance(error, BotoCoreError):
        return f"AWS could not be reached ({type(error).__name__})"
    return f"unexpected {type(error).__name__}; run again with --debug to see where"


def _one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except click.ClickException:
            raise  # usage errors: click prints them itself
        except Exception as error:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"quietline: {_one_line(error)}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper


def _target(ctx: click.Context) -> Target:
    """This invocation's target, resolved once (it holds the invocation's AWS clients)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Target):
        params = root.params
        if params["local"]:
            root.obj = local_target()
        else:
            root.obj = stack_target(params["stack"] or load_config().stack_name)
    target: Target = root.obj
    return target


@click.group()
@click.option("--local", is_flag=True, help="Act on local mode (`make run`) instead of AWS.")
@click.option("--stack", help="CloudFormation stack name (default: stack_name from the config).")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def main(local: bool, stack: str | None, debug: bool) -> None:
    """Operate a Quietline deployment (AWS credentials) or local mode (--local)."""


@main.group()
def tenants() -> None:
    """Tenants (practices) of this deployment."""


@tenants.command("sync")
@click.pass_context
@_one_line_errors
def tenants_sync(ctx: click.Context) -> None:
    """Create or update every tenant in quietline.config.json and assign its numbers."""
    config = load_config()
    runtime = _target(ctx).container(config)
    for spec in config.tenant_specs():
        provision_tenant(spec, runtime.store(), runtime.cipher())
        click.echo(f"tenant {spec.tenant_id}: {len(spec.business_numbers)} number(s) assigned")


@main.group()
def web() -> None:
    """The web inbox hosted by the stack (S3 + CloudFront)."""


@web.command("publish")
@click.option(
    "--if-hosted",
    is_flag=True,
    help="Do nothing (exit 0) when the stack does not host the inbox (web.enabled false).",
)
@click.pass_context
@_one_line_errors
def web_publish(ctx: click.Context, if_hosted: bool) -> None:
    """Upload web/ and its config.json to the stack's inbox bucket (after each deploy)."""
    target = _target(ctx)
    if if_hosted and "WebBucketName" not in target.outputs:
        click.echo("the stack does not host the inbox (web.enabled is false): nothing to publish")
        return
    bucket = target.output("WebBucketName")
    objects = site_objects(REPO_ROOT / "web", web_config(target, load_config()))
    uploaded, removed = publish(target.client("s3"), bucket, objects)
    click.echo(f"published {uploaded} file(s), removed {removed}; the inbox is at ", nl=False)
    click.echo(target.outputs.get("WebUrl", "(see the WebUrl output)"))


REPLAYABLE = {
    "outbound": ("OutboundDlqUrl", "OutboundQueueUrl"),
    "retry": ("RetryDlqUrl", "RetryQueueUrl"),
}


@main.command()
@click.argument("queue", type=click.Choice([*REPLAYABLE, "inbound"]))
@click.option("--limit", default=1000, show_default=True, help="At most this many messages.")
@click.pass_context
@_one_line_errors
def replay(ctx: click.Context, queue: str, limit: int) -> None:
    """Re-drive a dead-letter queue once its cause is fixed (safe to repeat).

    outbound: texts the sender gave up on; retry: inbound texts and status events whose
    storage failed; inbound: End User Messaging events the inbound function gave up on.
    """
    target = _target(ctx)
    sqs = target.client("sqs")
    if queue == "inbound":
        moved = reinvoke_function(
            sqs,
            target.client("lambda"),
            target.output("InboundFunctionDlqUrl"),
            target.output("InboundFunctionName"),
            limit=limit,
        )
    else:
        dlq, source = REPLAYABLE[queue]
        moved = redrive_queue(sqs, target.output(dlq), target.output(source), limit=limit)
    click.echo(f"replayed {moved} message(s) from the {queue} dead-letter queue")


@main.group()
def numbers() -> None:
    """Business numbers (AWS End User Messaging; `voice`: Chime SDK voice numbers)."""


register_voice_numbers(numbers)


@numbers.command("assign")
@click.option("--tenant", required=True)
@click.argument("number")
@click.pass_context
@_one_line_errors
def numbers_assign(ctx: click.Context, tenant: str, number: str) -> None:
    """Assign a business number (End User Messaging or Twilio) to a tenant.

    Also add it to the tenant's business_numbers in the config so `tenants sync` keeps it.
    """
    from functions.core.phone import to_e164  # noqa: PLC0415

    config = load_config()
    # As an operator types it: a national number is read in the practice's phone_region.
    e164 = to_e164(number, field="number", default_region=config.phone_region)
    store = _target(ctx).container(config).store()
    store.get_tenant(tenant)  # NotFoundError names an unknown tenant
    store.assign_business_number(e164, tenant)
    click.echo(f"{e164} now belongs to tenant {tenant}")


@numbers.command("request")
@click.option("--tenant", required=True)
@click.option("--country", default="US", show_default=True)
@click.option(
    "--type",
    "number_type",
    type=click.Choice(["TOLL_FREE", "TEN_DLC", "LONG_CODE"]),
    default="TOLL_FREE",
    show_default=True,
)
@click.pass_context
@_one_line_errors
def numbers_request(ctx: click.Context, tenant: str, country: str, number_type: str) -> None:
    """Request a new End User Messaging number with two-way SMS to this stack, and assign it.

    US numbers still need toll-free verification or 10DLC registration before they send.
    """
    target = _target(ctx)
    topic = target.output("InboundSmsTopicArn")
    sms = target.client("pinpoint-sms-voice-v2")
    response = sms.request_phone_number(
        IsoCountryCode=country,
        MessageType="TRANSACTIONAL",
        NumberCapabilities=["SMS"],
        NumberType=number_type,
        DeletionProtectionEnabled=True,
    )
    number_id, number = response["PhoneNumberId"], response["PhoneNumber"]
    sms.update_phone_number(
        PhoneNumberId=number_id,
        TwoWayEnabled=True,
        TwoWayChannelArn=topic,
        SelfManagedOptOutsEnabled=True,
    )
    target.container(load_config()).store().assign_business_number(number, tenant)
    click.echo(f"{number} ({number_id}) requested, two-way on, assigned to {tenant}")


@numbers.command("two-way")
@click.argument("phone_number_id")
@click.pass_context
@_one_line_errors
def numbers_two_way(ctx: click.Context, phone_number_id: str) -> None:
    """Turn on two-way SMS for a number, publishing inbound texts to the stack's topic.

    Self-managed opt-outs: Quietline answers STOP/HELP itself and records each opt-out.
    """
    target = _target(ctx)
    topic = target.output("InboundSmsTopicArn")
    target.client("pinpoint-sms-voice-v2").update_phone_number(
        PhoneNumberId=phone_number_id,
        TwoWayEnabled=True,
        TwoWayChannelArn=topic,
        SelfManagedOptOutsEnabled=True,
    )
    click.echo(f"two-way SMS on for {phone_number_id}")


EXIT_CHAIN_BROKEN = 3


def _audit_log(ctx: click.Context) -> DynamoDbAuditLog:
    target = _target(ctx)
    target.output("AuditTableName")  # a clear line if the stack has no audit table
    return target.container(load_config()).audit_log()


@main.group()
def audit() -> None:
    """The application audit trail (who read or changed what, when)."""


@audit.command("export")
@click.option("--tenant", required=True, help="Tenant id.")
@click.option("--from", "start", required=True, help="ISO-8601 start, inclusive (e.g. 2026-01-01).")
@click.option("--to", "end", required=True, help="ISO-8601 end, exclusive.")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--output", default=STDOUT, help="File to write (default: stdout).")
@click.pass_context
@_one_line_errors
def audit_export(
    ctx: click.Context, tenant: str, start: str, end: str, fmt: str, output: str
) -> None:
    """Export a tenant's audit events for a time range (ids only, never message text)."""
    events = _audit_log(ctx).between(tenant, start, end)
    with atomic_output(output) as stream:
        count = write_export(events, stream, fmt)
    click.echo(f"exported {count} event(s)", err=True)


@audit.command("verify")
@click.option("--tenant", required=True, help="Tenant id.")
@click.option(
    "--against-trail",
    is_flag=True,
    help="Also check that every append CloudTrail recorded is still in the table: finds the"
    " newest events removed (with their seals, or before they were sealed), which leave a"
    " shorter but valid chain (needs the stack's trail).",
)
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=90,
    show_default=True,
    help="With --against-trail: how far back to read the trail's log group.",
)
@click.pass_context
@_one_line_errors
def audit_verify(ctx: click.Context, tenant: str, against_trail: bool, days: int) -> None:
    """Check the tenant's sealed chain and report the unsealed tail; exit 3 and name the
    first break if events were removed, edited or relinked."""
    log = _audit_log(ctx)
    now = datetime.now(UTC)
    report = verify_tenant(log, tenant, now)
    for line in describe(report):
        click.echo(line)
    if not report.ok:
        sys.exit(EXIT_CHAIN_BROKEN)
    if against_trail:
        target = _target(ctx)
        log_group = target.output("TrailLogGroupName")
        table_name = target.output("AuditTableName")
        since_ms = int((time.time() - days * 86_400) * 1000)
        events = trail_events(target.client("logs"), log_group, table_name, since_ms)
        recorded = recorded_event_keys(events, table_name, tenant)
        present = log.event_keys_since(tenant, min(recorded)) if recorded else set()
        retention_days = load_config().audit_retention_days
        check = trail_check(recorded, present, now=now, retention_days=retention_days, days=days)
        click.echo(check.describe())
        if check.removed:
            sys.exit(EXIT_CHAIN_BROKEN)


@audit.command("seal")
@click.option("--tenant", required=True, help="Tenant id.")
@click.pass_context
@_one_line_errors
def audit_seal(ctx: click.Context, tenant: str) -> None:
    """Seal the tenant's unsealed events from the table, oldest first.

    For events the stream's sealer gave up on (its dead-letter queue holds where, not
    what) or that left the stream unsealed: they are sealed as the table holds them now.
    """
    log = _audit_log(ctx)
    pending = list(unsealed_events(log.events(tenant), log.markers(tenant)))
    report = seal_batch(pending, log, SystemClock())
    click.echo(f"sealed {report.sealed} event(s); {report.already_sealed} already sealed")


@main.group()
def backups() -> None:
    """Backups: point-in-time recovery (35 days) and AWS Backup (daily, monthly)."""


@backups.command("restore")
@click.option("--to-table", "target", required=True, help="Name of the NEW table to create.")
@click.option(
    "--time", "at", type=click.DateTime(), help="Restore as of this UTC time (default: latest)."
)
@click.option(
    "--kms-key-arn", help="The platform key (stack output PlatformKeyArn) for the new table."
)
@click.pass_context
@_one_line_errors
def backups_restore(ctx: click.Context, target: str, at: Any, kms_key_arn: str | None) -> None:
    """Restore the message table into a new table (the live one is never overwritten).

    Then follow docs/operations.md#restoring-the-message-table to point the stack at it.
    """
    deployment = _target(ctx)
    source = deployment.output("MessageTableName")
    items = restore_to_new_table(
        deployment.client("dynamodb"), source, target, at=at, kms_key_arn=kms_key_arn
    )
    click.echo(f"restored {source} into {target}: {items} item(s), ACTIVE, PITR on")


@main.command()
def openapi() -> None:
    """Print the staff API's OpenAPI document (docs/openapi.json is this output)."""
    import json  # noqa: PLC0415

    from functions.handlers.api import openapi_schema  # noqa: PLC0415

    click.echo(json.dumps(openapi_schema(), indent=2, sort_keys=True))


register_admin_commands(main, _target, _one_line_errors)
register_push_commands(main, _target, _one_line_errors)
register_local_mode_commands(main, _one_line_errors)

if __name__ == "__main__":
    main()
