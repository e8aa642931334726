"""The practice's texting settings: keyword replies, body limit, after-hours reply."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from functions.core.models import AfterHours, TenantSettings
from functions.handlers.api.models import Settings
from functions.handlers.api.policy import principal, route, runtime
from functions.handlers.api.views import settings_view

router = Router()


@route(router, "GET", "/settings", audit=None)
def get_settings() -> dict[str, Any]:
    settings, defaults = runtime(router).inbox_service().settings_with_defaults(principal(router))
    # The inbox shows the wording in effect while a reply is left empty (#15).
    return settings_view(settings) | {"default_replies": defaults}


@route(router, "PUT", "/settings", audit="settings.update", admin_only=True)
def update_settings(payload: Settings) -> dict[str, Any]:
    after = payload.after_hours
    settings = TenantSettings(
        help_reply=payload.help_reply,
        stop_reply=payload.stop_reply,
        start_reply=payload.start_reply,
        max_body_chars=payload.max_body_chars,
        after_hours=AfterHours(
            enabled=after.enabled,
            timezone=after.timezone,
            hours={int(d): span for d, span in after.hours.items()},
            text=after.text,
            window_minutes=after.window_minutes,
            holidays=tuple(after.holidays),
        ),
    )
    return settings_view(
        runtime(router).inbox_service().update_settings(principal(router), settings)
    )
