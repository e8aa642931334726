"""What every browser test checks on every screen: nothing about a client in the title,
the address bar or browser storage, and text contrast at WCAG 2.1 AA."""

from __future__ import annotations

from typing import TYPE_CHECKING

from functions.handlers.api.browser_session import COOKIE_NAME

if TYPE_CHECKING:
    from playwright.sync_api import Page

TITLES = {"Quietline", "Quietline phone simulator"}

# Every visible text node's colour against the first opaque background behind it:
# 4.5:1, or 3:1 for large text (24px, or 18.66px bold). Disabled controls are exempt.
_CONTRAST = """() => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const lum = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = parse(getComputedStyle(el).backgroundColor);
      if (c && c.a > 0.99) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const failures = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility()) continue;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2 || el.closest(":disabled")) continue;
    const style = getComputedStyle(el);
    const a = lum(parse(style.color));
    const b = lum(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (Number(style.fontWeight) >= 700 && size >= 18.66);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}"""


def assert_contrast(page: Page) -> None:
    failures = page.evaluate(_CONTRAST)
    assert failures == [], f"text below WCAG AA contrast: {failures[:5]}"


def assert_nothing_kept(page: Page, *sensitive: str) -> None:
    """Static title; no client detail in the URL; nothing in storage or cookies."""
    title, url = page.title(), page.url
    assert title in TITLES
    for value in sensitive:
        assert value not in url and value not in title
        assert value.lstrip("+") not in url
    assert "?" not in url and "#" not in url
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    assert_only_the_session_cookie(page)


def assert_only_the_session_cookie(page: Page) -> None:
    """No cookie but the staff API's refresh cookie, which no script can read and which
    goes to the session routes only, on this origin only (docs/access.md)."""
    for cookie in page.context.cookies():
        assert cookie["name"] == COOKIE_NAME, cookie["name"]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/session"
