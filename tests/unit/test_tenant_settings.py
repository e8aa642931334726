"""A practice's own keyword wording: blank means the built-in wording, never a blank text."""

from __future__ import annotations

import pytest

from functions.core.models import TenantSettings

pytestmark = pytest.mark.unit

REPLIES = ["help_reply", "stop_reply", "start_reply"]


@pytest.mark.parametrize("name", REPLIES)
@pytest.mark.parametrize("blank", ["   ", "\n", "\t \r\n"])
def test_a_wording_of_only_whitespace_means_the_built_in_wording(name: str, blank: str) -> None:
    settings = TenantSettings(**{name: blank})

    assert getattr(settings, name) == ""


@pytest.mark.parametrize("name", REPLIES)
def test_a_real_wording_is_kept_exactly_as_the_practice_wrote_it(name: str) -> None:
    settings = TenantSettings(**{name: " Call the front desk. "})

    assert getattr(settings, name) == " Call the front desk. "
