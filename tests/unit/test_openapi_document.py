"""docs/openapi.json is the document the code generates: regenerate it when routes change."""

from __future__ import annotations

import json

import pytest

from functions.handlers.api import openapi_schema
from infra.config import REPO_ROOT

pytestmark = pytest.mark.unit


def test_the_committed_openapi_document_matches_the_code() -> None:
    committed = json.loads((REPO_ROOT / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert committed == openapi_schema(), "run: .venv/bin/quietline openapi > docs/openapi.json"
