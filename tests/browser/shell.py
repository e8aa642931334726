"""The service worker's app shell (web/sw.js's SHELL) and what Cache Storage holds, for the
tests that check nothing but the shell is ever cached."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from infra.config import REPO_ROOT

if TYPE_CHECKING:
    from playwright.sync_api import Page

WORKER = REPO_ROOT / "web" / "sw.js"


def shell_paths() -> set[str]:
    """The paths web/sw.js lists in SHELL."""
    source = WORKER.read_text(encoding="utf-8")
    listing = re.search(r"const SHELL = \[(.*?)\];", source, re.S)
    assert listing, "sw.js lists its shell in `const SHELL = [...]`"
    return set(re.findall(r'"([^"]+)"', listing.group(1)))


def cached(page: Page) -> list[dict[str, Any]]:
    """Every entry of every Cache Storage cache of the page's origin: cache, URL, text."""
    entries: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const found = [];
          if (typeof caches === "undefined") return found;
          for (const name of await caches.keys()) {
            const cache = await caches.open(name);
            for (const request of await cache.keys()) {
              const response = await cache.match(request);
              found.push({ cache: name, url: request.url, text: await response.text() });
            }
          }
          return found;
        }"""
    )
    return entries


def cached_paths(page: Page) -> set[str]:
    """The paths (and any query) of everything cached, relative to the page's origin."""
    origin = page.evaluate("location.origin")
    return {entry["url"].removeprefix(origin) for entry in cached(page)}
