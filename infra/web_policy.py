"""The web front end's security headers and URL shapes, defined once.

Local mode (local/static.py) answers with these headers and accepts these paths; a
deployment's CloudFront distribution (infra/constructs/web_hosting.py) sends the same
headers through its response-headers policy and routes the same paths in its viewer
function, so what the browser tests prove locally is what a deployment serves.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# The three pages and where they live in web/ (the phone simulator is local mode only).
INBOX_PAGE = "index.html"
SECURE_PAGE = "secure.html"
PHONE_PAGE = "phone.html"
CELL_PAGE = "cell.html"  # a clinician's simulated forwarding cell: local mode only too
# The installable app's service worker (web/sw.js). It is served from the site's root,
# /sw.js, because a worker only controls pages at or below its own path; it caches the app
# shell only (docs/web.md, "Service worker").
SERVICE_WORKER = "sw.js"
SERVICE_WORKER_PATH = "/sw.js"
DEPLOYED_PAGES = (INBOX_PAGE, SECURE_PAGE, SERVICE_WORKER)
ASSET_DIR = "app"
CONFIG_ASSET = "config.json"
# Scripts in web/app that exist for local mode only, listed once: the phone simulator's
# (and its calls), the clinician cell simulator's, the
# sign-in screen's demo panel (it reads /local/demo: the demo accounts' passwords and TOTP
# secrets) and the TOTP helper that panel shows codes with. `quietline web publish` never
# uploads them, and local mode serves them only while QUIETLINE_STAGE=local.
LOCAL_ONLY_ASSETS = frozenset({"phone.js", "phone_calls.js", "cell.js", "demo.js", "totp.js"})

# One path segment of a plain file name: no dot first (no "..", no hidden files), no
# percent-encoding, no backslashes, one known extension. The same syntax in Python and JS.
ASSET_NAME_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.(?:js|css|svg|png|ico|json)"
# The clients' secure-message page. Its token follows in the URL's fragment (/s#<token>),
# which browsers never send to a server, so it is in no request line and no access log.
SECURE_PAGE_PATH = "/s"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
# HTML and JSON (the config) are never stored; scripts and styles are revalidated each time.
_NO_STORE_SUFFIXES = (".html", ".json")


def cache_control(file_name: str) -> str:
    return "no-store" if file_name.endswith(_NO_STORE_SUFFIXES) else "no-cache"


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(cognito_endpoint: str, *api_origins: str | None) -> str:
    """Everything from this origin; fetches also to Cognito (sign-in) and the APIs (the
    staff API and the clients' secure-link API)."""
    connect = " ".join(["'self'", cognito_endpoint, *(o for o in api_origins if o)])
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            # The installable app: its service worker (/sw.js) and web app manifest.
            "worker-src 'self'",
            "manifest-src 'self'",
            # Voicemail plays from a blob: URL of audio fetched with the API's token
            # (docs/voice.md, "Inbox"): never a URL that could be replayed or cached.
            "media-src blob:",
            f"connect-src {connect}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "object-src 'none'",
            # Scripts may not write HTML strings into the page (innerHTML and friends).
            "require-trusted-types-for 'script'",
        )
    )


# Besides the CSP; CloudFront sets HSTS too (local mode is plain http on 127.0.0.1).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def cognito_endpoint_for(region: str, url_suffix: str = "amazonaws.com") -> str:
    return f"https://cognito-idp.{region}.{url_suffix}"
