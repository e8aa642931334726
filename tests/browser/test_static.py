"""local/static.py over HTTP: pages, content types, security headers, no path traversal,
and the demo accounts only in local mode."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from infra.config import REPO_ROOT
from local import static

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _raw_get(base_url: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET with the path sent exactly as given (no client-side normalization)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        ("/", "text/html; charset=utf-8", "no-store"),
        ("/phone", "text/html; charset=utf-8", "no-store"),
        ("/cell", "text/html; charset=utf-8", "no-store"),
        ("/s", "text/html; charset=utf-8", "no-store"),
        ("/app/main.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/app/style.css", "text/css; charset=utf-8", "no-cache"),
        ("/app/icon.svg", "image/svg+xml", "no-cache"),
        ("/app/icon-192.png", "image/png", "no-cache"),
        ("/app/manifest.json", "application/json", "no-store"),
        ("/sw.js", "text/javascript; charset=utf-8", "no-cache"),
        ("/app/config.json", "application/json", "no-store"),
        ("/local/demo", "application/json", "no-store"),
    ],
)
def test_each_static_answer_has_its_type_and_the_security_headers(
    runtime: dict[str, Any], path: str, content_type: str, cache: str
) -> None:
    status, headers, body = _raw_get(runtime["base_url"], path)

    assert status == 200 and body
    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"] == cache
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    csp = headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src blob:",
        "worker-src 'self'",
        "manifest-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    # The browser signs in against Cognito directly: locally that is the moto server.
    assert f"connect-src 'self' {runtime['aws_endpoint_url']};" in csp


def test_pages_name_no_one_and_load_only_local_scripts(runtime: dict[str, Any]) -> None:
    for path, title in (
        ("/", "Quietline"),
        ("/phone", "Quietline phone simulator"),
        ("/cell", "Quietline clinician cell simulator"),
    ):
        _, _, body = _raw_get(runtime["base_url"], path)
        html = body.decode()
        assert f"<title>{title}</title>" in html
        assert not re.search(r'(?:src|href)="(?:https?:)?//', html)  # self-hosted only
        assert "<script>" not in html and "style=" not in html  # nothing inline: CSP


@pytest.mark.parametrize(
    "path",
    [
        "/app/../local/static.py",
        "/app/..%2f..%2flocal%2fstatic.py",
        "/app/%2e%2e%2f%2e%2e%2finfra%2fconfig.py",
        "/app/..",
        "/app/.hidden.js",
        "/app/..%5c..%5cREADME.md",
        "/app/main.js%00.css",
        "/app/missing.js",
        "/app/README.md",
        "/app//etc/passwd",
        "/s/../../etc/passwd",
        "/s/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/s/AbCdEfGhIjKlMnOpQrStUvWxYz012345",  # a token belongs in the fragment, never the path
        "/web/index.html",
        "/index.html/../../quietline.config.json",
    ],
)
def test_no_path_reaches_a_file_outside_web(runtime: dict[str, Any], path: str) -> None:
    status, _, body = _raw_get(runtime["base_url"], path)

    assert status == 404
    assert b"import" not in body and b"tenants" not in body


def test_asset_names_resolve_only_inside_web_app() -> None:
    assert static.resolve_asset("main.js") == (REPO_ROOT / "web" / "app" / "main.js").resolve()
    for name in ("../main.js", "..", ".", "", "a/b.js", "..\\x.js", "main.js\x00", "x.py"):
        assert static.resolve_asset(name) is None


def _stage(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, *, local: bool) -> None:
    """Local mode is where its state file is (local/static.py reads no other signal)."""
    state_dir = tmp_path / ("local" if local else "deployed")
    state_dir.mkdir(exist_ok=True)
    if local:
        (state_dir / "local.json").write_text(json.dumps({"users": []}), encoding="utf-8")
    monkeypatch.setenv("QUIETLINE_STATE_DIR", str(state_dir))


def test_the_demo_accounts_exist_only_in_local_mode(
    runtime: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    status, _, _ = _raw_get(runtime["base_url"], "/local/demo")
    assert status == 200

    _stage(monkeypatch, tmp_path, local=False)
    answer = static.handler({"resource": static.DEMO_ROUTE, "pathParameters": None}, None)

    assert answer["statusCode"] == 404
    assert "password" not in answer["body"]


@pytest.mark.parametrize("script", ["demo.js", "totp.js", "phone.js", "phone_calls.js", "cell.js"])
def test_local_only_scripts_are_served_only_in_local_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str
) -> None:
    # Given a script local mode serves (the demo panel, its TOTP helper, the phone's)
    event = {"resource": static.ASSET_ROUTE, "pathParameters": {"asset": script}}
    _stage(monkeypatch, tmp_path, local=True)
    assert static.handler(event, None)["statusCode"] == 200

    # When the stage is not local
    _stage(monkeypatch, tmp_path, local=False)

    # Then it is not found, as in a deployment, while the inbox's own scripts still are
    assert static.handler(event, None)["statusCode"] == 404
    inbox_script = {**event, "pathParameters": {"asset": "main.js"}}
    assert static.handler(inbox_script, None)["statusCode"] == 200


def test_the_client_idle_knob_applies_only_in_local_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("QUIETLINE_IDLE_TIMEOUT_MINUTES", "20")
    monkeypatch.setenv(static.ENV_CLIENT_IDLE_SECONDS, "5")
    _stage(monkeypatch, tmp_path, local=True)
    assert static.idle_timeout_seconds() == 5

    _stage(monkeypatch, tmp_path, local=False)
    assert static.idle_timeout_seconds() == 20 * 60
    assert static.web_config()["local_mode"] is False


def test_deployed_csp_allows_cognitos_regional_endpoint_and_the_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_COGNITO_IDP", raising=False)
    monkeypatch.delenv(static.ENV_WEB_API_BASE_URL, raising=False)
    monkeypatch.setenv("AWS_REGION", "us-west-2")

    assert "connect-src 'self' https://cognito-idp.us-west-2.amazonaws.com;" in (
        static.content_security_policy()
    )

    monkeypatch.setenv(static.ENV_WEB_API_BASE_URL, "https://api.example.org/prod/")

    assert (
        "connect-src 'self' https://cognito-idp.us-west-2.amazonaws.com https://api.example.org;"
        in static.content_security_policy()
    )
    assert static.web_config()["api_base_url"] == "https://api.example.org/prod"
    # One local port serves the secure page's routes too: the same base.
    assert static.web_config()["secure_api_base_url"] == "https://api.example.org/prod"


def test_the_browser_enforces_the_policy(chromium: Browser, runtime: dict[str, Any]) -> None:
    """No HTML strings into the page, no inline or foreign script, no foreign fetches."""
    context = chromium.new_context()
    page = context.new_page()
    page.goto(runtime["base_url"] + "/")
    page.wait_for_selector("body[data-ready=true]")

    try:
        outcome = page.evaluate(
            """async () => {
                window.refused = [];
                document.addEventListener("securitypolicyviolation", (e) =>
                    window.refused.push(e.effectiveDirective));
                const attempt = (work) => { try { work(); return "allowed"; }
                                            catch (e) { return e.name; } };
                const html = attempt(() => { document.body.innerHTML += "<b>x</b>"; });
                const style = document.createElement("p");
                style.setAttribute("style", "color: red");
                document.body.append(style);
                let fetched = "allowed";
                try { await fetch("https://example.org/"); } catch (e) { fetched = e.name; }
                return { html, fetched };
            }"""
        )
        # The violation reports are events, dispatched after the refusals themselves.
        page.wait_for_function(
            "(wanted) => wanted.every((directive) => window.refused.includes(directive))",
            arg=["style-src-attr", "connect-src"],
        )
    finally:
        context.close()

    assert outcome["html"] == "TypeError"  # Trusted Types: innerHTML refuses strings
    assert outcome["fetched"] == "TypeError"
