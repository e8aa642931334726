"""Typed settings read from the environment on first use (never at import time).

The CDK constructs and local mode set these variables; ENV_* names are the contract.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from functions.core.errors import ValidationError

ENV_TABLE_NAME = "QUIETLINE_TABLE_NAME"
ENV_STAGE = "QUIETLINE_STAGE"


@dataclass(frozen=True)
class CoreSettings:
    table_name: str
    stage: str  # "aws" when deployed, "local" under make run


def _required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ValidationError(name, "environment variable is not set")
    return value


@cache
def core_settings() -> CoreSettings:
    return CoreSettings(
        table_name=_required(ENV_TABLE_NAME),
        stage=os.environ.get(ENV_STAGE, "aws"),
    )
