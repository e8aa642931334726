"""The Lambda code asset: the `functions/` package plus its pinned runtime dependencies.

Bundled locally (no Docker): pip downloads manylinux aarch64 wheels for CPython 3.12,
the Lambda runtime and architecture, into the asset, and the package is copied next to
them as `functions/`, so handlers are addressed as `functions.handlers.<module>.handler`.
Synth with the context `aws:cdk:bundling-stacks=[]` (tests do) skips bundling entirely.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
REQUIREMENTS_FILE = FUNCTIONS_DIR / "requirements.txt"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
_PIP_PLATFORM = ("--platform", "manylinux2014_aarch64", "--python-version", "3.12")

# Never shipped to Lambda: bytecode caches and tests.
_EXCLUDE = ("__pycache__", "*.pyc", "tests", "test_*.py")


@jsii.implements(cdk.ILocalBundling)
class _LocalBundling:
    # jsii passes the BundlingOptions struct positionally to a signature without keywords.
    def try_bundle(self, output_dir: str, options: cdk.BundlingOptions) -> bool:
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--no-compile",
                "--requirement",
                str(REQUIREMENTS_FILE),
                "--target",
                output_dir,
                *_PIP_PLATFORM,
                "--implementation",
                "cp",
                "--only-binary=:all:",
            ],
            check=True,
        )
        shutil.copytree(
            FUNCTIONS_DIR,
            Path(output_dir) / "functions",
            ignore=shutil.ignore_patterns(*_EXCLUDE),
            dirs_exist_ok=True,
        )
        return True


def functions_code() -> lambda_.Code:
    """The shared code asset. Every function gets the same source hash, so CDK stages,
    bundles and uploads it once per stack however many functions use it."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        # The hash covers exactly the Lambda source and requirements.txt: no rebundle
        # for infra or test changes, and a stable hash (pip output is not reproducible).
        asset_hash_type=cdk.AssetHashType.SOURCE,
        exclude=list(_EXCLUDE),
        bundling=cdk.BundlingOptions(
            # Docker is only the fallback when local bundling is unavailable.
            image=RUNTIME.bundling_image,
            # jsii dispatches by name; the Protocol's keyword signature is not needed.
            local=cast(cdk.ILocalBundling, _LocalBundling()),
            command=[
                "bash",
                "-c",
                "pip install -r requirements.txt -t /asset-output "
                "&& mkdir -p /asset-output/functions "
                "&& cp -r . /asset-output/functions "
                "&& find /asset-output/functions -name __pycache__ -prune -exec rm -rf {} +",
            ],
        ),
    )
