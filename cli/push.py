"""`quietline push init`: put Web Push's VAPID key into the stack's secret (docs/web.md).

The stack creates the secret with a random placeholder; this command, run once after the
first deploy, generates a P-256 key, stores it as the secret's value and tags the secret
with the public half (what `GET /push/key` answers). Run again it refuses, unless
`--rotate`: a new key invalidates every device's subscription.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from cli.target import Target, TargetError
from functions.dal.secrets import secret_tag
from functions.dal.web_push import (
    VAPID_PUBLIC_KEY_TAG,
    new_vapid_private_key_pem,
    vapid_public_key,
)

SECRET_OUTPUT = "WebPushKeySecretArn"  # noqa: S105 - a stack output name


def init_key(target: Target, *, rotate: bool) -> str:
    """Generate and store the key; the public key it returns is what devices subscribe with."""
    if SECRET_OUTPUT not in target.outputs:
        raise TargetError(
            f"{target.name} has no Web Push key secret: local mode keeps its own key, and a"
            " VPC deployment has no route to push services (docs/web.md)"
        )
    secret_id = target.output(SECRET_OUTPUT)
    client = target.client("secretsmanager")
    if secret_tag(client, secret_id, VAPID_PUBLIC_KEY_TAG) and not rotate:
        raise TargetError(
            "Web Push is already set up; `--rotate` replaces the key, and every device"
            " must then opt in to notifications again"
        )
    pem = new_vapid_private_key_pem()
    public_key = vapid_public_key(pem)
    try:
        client.put_secret_value(SecretId=secret_id, SecretString=pem)
        # The tag last: `GET /push/key` answers only once the key it names is in place.
        client.tag_resource(
            SecretId=secret_id, Tags=[{"Key": VAPID_PUBLIC_KEY_TAG, "Value": public_key}]
        )
    except (ClientError, BotoCoreError) as error:
        code = getattr(error, "response", {}).get("Error", {}).get("Code", type(error).__name__)
        raise TargetError(f"cannot store the Web Push key ({code})") from None
    return public_key


def register(
    main: click.Group,
    target_of: Callable[[click.Context], Target],
    one_line_errors: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> None:
    @main.group()
    def push() -> None:
        """Web Push notifications ("New message in Quietline", never PHI)."""

    @push.command("init")
    @click.option(
        "--rotate",
        is_flag=True,
        help="Replace an existing key: every device must opt in to notifications again.",
    )
    @click.pass_context
    @one_line_errors
    def push_init(ctx: click.Context, rotate: bool) -> None:
        """Generate the VAPID signing key into the stack's secret (once, after deploy)."""
        public_key = init_key(target_of(ctx), rotate=rotate)
        click.echo(f"web push is set up; devices subscribe with public key {public_key}")
        if rotate:
            click.echo("key rotated: staff must turn notifications on again on each device")
