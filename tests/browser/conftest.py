"""Browser tests: the local runtime as a process, Debian's Chromium driven by Playwright.

Chromium comes from the distribution (`make browser-deps`), never from `playwright
install`. The runtime is started once per session (all browser tests share one xdist
group, so one worker), and its whole log is scanned for PHI when it stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.process import RuntimeDidNotStart, RuntimeProcess
from tests.browser.helpers import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import phi_found

try:
    from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - reported as a skip below
    sync_playwright = None  # type: ignore[assignment]


def _skip_reason() -> str | None:
    if sync_playwright is None:
        return "playwright is not installed (requirements.txt)"
    if not CHROMIUM.exists():
        return "Debian chromium is not installed (make browser-deps)"
    return None


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`python -m local.runtime` on a free port; yields its local.json."""
    # A client idle override from the developer's shell must not reach the tests.
    runtime = RuntimeProcess(
        tmp_path_factory.mktemp("quietline-web-state"), env={"QUIETLINE_CLIENT_IDLE_SECONDS": None}
    )
    try:
        state = runtime.start(timeout=60)
    except RuntimeDidNotStart as error:
        pytest.fail(str(error))
    yield state
    runtime.stop()
    output = runtime.log()
    assert "GET / -> 200" in output, "the PHI scan must see the runtime's log"
    assert phi_found(output) == [], "the local runtime logged PHI while the browser drove it"


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    reason = _skip_reason()
    if reason is not None:
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, locale="en-US")
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)  # expect() waits as long as actions do
    problems: list[str] = []
    # Script errors and CSP refusals ("Refused to ...") fail the test; an API's 4xx answer,
    # which Chromium also logs, is part of what the tests exercise.
    context.on(
        "console",
        lambda message: (
            problems.append(message.text[:120])
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    context.on("weberror", lambda error: problems.append(str(error.error)[:120]))
    yield context
    context.close()
    assert problems == [], f"the pages logged errors: {problems[:3]}"


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()
