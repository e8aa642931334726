"""Builds the CDK app the same way for `cdk synth`, `python app.py` and the tests."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.config import REPO_ROOT, ConfigError, QuietlineConfig
from infra.nag import register_nag_packs
from infra.stack import QuietlineStack

CDK_JSON = REPO_ROOT / "cdk.json"
# Context key: glob patterns of stacks whose assets are bundled; [] bundles none.
BUNDLING_STACKS = "aws:cdk:bundling-stacks"
_ACCOUNT = re.compile(r"^\d{12}$")


def cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The feature flags in cdk.json, so an app built outside the CDK CLI (tests,
    `python app.py`) synthesizes exactly what `cdk synth` does."""
    context = json.loads(path.read_text(encoding="utf-8")).get("context", {})
    return dict(context)


def create_app(*, outdir: str | None = None, context: dict[str, Any] | None = None) -> cdk.App:
    """An App with cdk.json's context (overridden by `context`, then by the CDK CLI's -c)
    and the cdk-nag packs registered: any unacknowledged finding fails synth.

    QUIETLINE_SKIP_BUNDLING=1 skips the pip bundling of the Lambda asset (synth checks
    without network). The CLI rejects `-c aws:cdk:bundling-stacks=[]` (reserved prefix)
    and always sets that key itself, so it is applied after the CLI's context.
    """
    skip_bundling = os.environ.get("QUIETLINE_SKIP_BUNDLING") == "1"
    app = cdk.App(
        outdir=outdir,
        context={**cdk_json_context(), **(context or {})},
        post_cli_context={BUNDLING_STACKS: []} if skip_bundling else None,
    )
    register_nag_packs(app)
    return app


def resolve_environment(config: QuietlineConfig) -> cdk.Environment:
    """Account from the config, else from the CDK CLI's credentials; region from config."""
    account = config.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    if not account:
        raise ConfigError(
            "account: not set; put the 12-digit AWS account id in the config file "
            "or run through `cdk` with credentials for the target account"
        )
    if not _ACCOUNT.match(account):
        raise ConfigError("account: must be a 12-digit AWS account id")
    return cdk.Environment(account=account, region=config.region)


def build_app(
    config: QuietlineConfig,
    *,
    outdir: str | None = None,
    context: dict[str, Any] | None = None,
    app: cdk.App | None = None,
) -> tuple[cdk.App, QuietlineStack]:
    """The Quietline app: one stack, explicit environment, cdk-nag on.

    Pass `app` when the caller already created it with `create_app()` (app.py does, to
    read the `config` context before building).
    """
    env = resolve_environment(config)
    app = app or create_app(outdir=outdir, context=context)
    stack = QuietlineStack(app, config.stack_name, config=config, env=env)
    return app, stack
