"""How the staff API renders pages and settings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from functions.core.models import TenantSettings


def page_of(items: list[Any], cursor: str | None) -> dict[str, Any]:
    return {"items": [asdict(i) for i in items], "cursor": cursor}


def settings_view(settings: TenantSettings) -> dict[str, Any]:
    view = asdict(settings)
    view["after_hours"]["hours"] = {str(d): list(s) for d, s in settings.after_hours.hours.items()}
    return view
