"""The web inbox on S3 + CloudFront (infra/constructs/web_hosting.py), in the default app.

The viewer function is run in Node (the CDK's own runtime, on every machine that synths)
exactly as synthesized, and every file `quietline web publish` uploads must be reachable
through it; the headers policy must carry local mode's CSP and security headers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from cli.target import Target
from cli.web import site_objects, web_config
from infra.config import REPO_ROOT
from infra.stack import QuietlineStack
from tests.infra.conftest import (
    ACCOUNT,
    REGION,
    logical_id,
    make_config,
    plain_app,
    ref,
    resource,
    single,
)

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("synth")]

TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"  # the shape of secrets.token_urlsafe(24)


def _web(stack: QuietlineStack) -> Any:
    assert stack.web is not None, "the default configuration hosts the inbox"
    return stack.web


def _viewer(template: Template, stack: QuietlineStack, uris: list[str]) -> list[Any]:
    """Each URI through the synthesized viewer-request function, in Node."""
    code = Capture()
    resource(template, _web(stack).viewer_request).has_properties({"FunctionCode": code})
    script = (
        code.as_string()
        + "\nconst uris = JSON.parse(process.argv[1]);"
        + "\nconsole.log(JSON.stringify(uris.map((uri) => {"
        + "\n  const out = handler({ request: { uri: uri, method: 'GET', headers: {} } });"
        + "\n  return out.statusCode ? out.statusCode : out.uri;"
        + "\n})));"
    )
    node = shutil.which("node")
    assert node, "Node.js runs the CDK; the same runtime runs the viewer function here"
    result = subprocess.run(  # noqa: S603 - our own synthesized code, a fixed argv
        [node, "-e", script, json.dumps(uris)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answers: list[Any] = json.loads(result.stdout)
    return answers


def test_the_viewer_function_maps_the_pages_and_refuses_everything_else(
    stack: QuietlineStack, app_template: Template
) -> None:
    cases = {
        "/": "/index.html",
        "/s": "/secure.html",  # the token is in the fragment: CloudFront never sees it
        "/app/main.js": "/app/main.js",
        "/app/config.json": "/app/config.json",
        "/sw.js": "/sw.js",  # the service worker, at the root so its scope is the whole app
        "/app/manifest.json": "/app/manifest.json",
        "/app/icon-512.png": "/app/icon-512.png",
        # Only the shapes local mode serves: nothing else in the bucket is reachable.
        "/index.html": 404,
        "/secure.html": 404,
        "/make_icons.py": 404,
        "/phone": 404,  # the phone simulator is local mode only
        "/cell": 404,  # and so is the clinician cell simulator
        f"/s/{TOKEN}": 404,
        "/s/": 404,
        "/app/../index.html": 404,
        "/app/.hidden.js": 404,
        "/app/sub/dir.js": 404,
        "/app/a%2Fb.js": 404,
        "/app/notes.txt": 404,
        "/local/demo": 404,
    }
    assert _viewer(app_template, stack, list(cases)) == list(cases.values())


def test_every_published_file_is_reachable_and_nothing_local_only_is_published(
    stack: QuietlineStack, app_template: Template
) -> None:
    target = Target(
        "test",
        {
            "UserPoolClientId": "client",
            "ApiUrl": "https://api.example/prod",
            "SecureApiUrl": "https://secure-api.example/prod",
        },
    )
    keys = [obj.key for obj in site_objects(REPO_ROOT / "web", web_config(target, stack.config))]
    local_only = {
        "phone.html",
        "cell.html",
        "app/phone.js",
        "app/phone_calls.js",
        "app/cell.js",
        "app/demo.js",
        "app/totp.js",
    }
    assert not local_only & set(keys)
    pages = {"index.html": "/", "secure.html": "/s"}
    uris = [pages.get(key, f"/{key}") for key in keys]
    assert _viewer(app_template, stack, uris) == [f"/{key}" for key in keys]


def test_the_bucket_is_private_and_read_only_by_this_distribution(
    stack: QuietlineStack, app_template: Template
) -> None:
    web = _web(stack)
    resource(app_template, web.bucket).has_properties(
        {
            "PublicAccessBlockConfiguration": Match.object_equals(
                {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                }
            ),
            "VersioningConfiguration": Match.object_equals({"Status": "Enabled"}),
            "LoggingConfiguration": {"DestinationBucketName": ref(web.logs)},
        }
    )
    statements = single(
        app_template, "AWS::S3::BucketPolicy", {"Bucket": ref(web.bucket)}
    ).statements()
    (read,) = [s for s in statements if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    source = json.dumps(read["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert logical_id(web.distribution) in source
    denies = [s for s in statements if s["Effect"] == "Deny"]
    assert {json.dumps(s["Condition"], sort_keys=True) for s in denies} >= {
        json.dumps({"Bool": {"aws:SecureTransport": "false"}})
    }


def test_the_distribution_is_https_only_uncached_and_logged(
    stack: QuietlineStack, app_template: Template
) -> None:
    web = _web(stack)
    resource(app_template, web.distribution).has_properties(
        {
            "DistributionConfig": {
                "DefaultCacheBehavior": {
                    "ViewerProtocolPolicy": "redirect-to-https",
                    "AllowedMethods": ["GET", "HEAD"],
                    # AWS's managed CachingDisabled policy: a publish is live at once.
                    "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                    "ResponseHeadersPolicyId": ref(web.headers),
                    "FunctionAssociations": [
                        Match.object_equals(
                            {
                                "EventType": "viewer-request",
                                "FunctionARN": {
                                    "Fn::GetAtt": [logical_id(web.viewer_request), "FunctionARN"]
                                },
                            }
                        )
                    ],
                },
                "Origins": [
                    {
                        "OriginAccessControlId": Match.any_value(),
                        "S3OriginConfig": Match.object_equals({"OriginAccessIdentity": ""}),
                    },
                    # The staff API's /session routes only (the test below).
                    Match.object_like({"OriginPath": "/prod"}),
                ],
                "Logging": {"Bucket": {"Fn::GetAtt": [logical_id(web.logs), "RegionalDomainName"]}},
                "Restrictions": Match.absent(),  # no geo restriction unless configured
            }
        }
    )


def test_the_headers_are_local_modes_with_hsts_and_the_apis_origin_in_the_csp(
    stack: QuietlineStack, app_template: Template
) -> None:
    csp_parts, hsts_max_age, custom_headers = Capture(), Capture(), Capture()
    resource(app_template, _web(stack).headers).has_properties(
        {
            "ResponseHeadersPolicyConfig": {
                "SecurityHeadersConfig": {
                    "ContentSecurityPolicy": {
                        "ContentSecurityPolicy": {"Fn::Join": ["", csp_parts]}
                    },
                    "FrameOptions": {"FrameOption": "DENY"},
                    "ReferrerPolicy": {"ReferrerPolicy": "no-referrer"},
                    "ContentTypeOptions": Match.object_equals({"Override": True}),
                    "StrictTransportSecurity": {"AccessControlMaxAgeSec": hsts_max_age},
                },
                "CustomHeadersConfig": {"Items": custom_headers},
            }
        }
    )
    parts = csp_parts.as_array()
    csp = "".join(part if isinstance(part, str) else "<ref>" for part in parts)
    # The staff API's origin, then the clients' secure-link API's, then the live-update
    # socket's (wss), and nothing else.
    api = f"https://<ref>.execute-api.{REGION}.<ref>"
    live = f"wss://<ref>.execute-api.{REGION}.<ref>"
    assert f"connect-src 'self' https://cognito-idp.{REGION}.<ref> {api} {api} {live};" in csp
    assert stack.secure_links is not None
    assert parts.index(ref(stack.staff_api.api)) < parts.index(ref(stack.secure_links.api))
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
    ):
        assert directive in csp
    assert hsts_max_age.as_number() >= 31_536_000  # a year
    assert {h["Header"]: h["Value"] for h in custom_headers.as_array()} == {
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


def test_outputs_name_the_inbox_url_bucket_and_distribution(
    stack: QuietlineStack, app_template: Template
) -> None:
    web = _web(stack)
    app_template.has_output("WebBucketName", {"Value": ref(web.bucket)})
    app_template.has_output("WebDistributionId", {"Value": ref(web.distribution)})
    app_template.has_output(
        "WebUrl",
        {
            "Value": Match.exact(
                {
                    "Fn::Join": [
                        "",
                        ["https://", {"Fn::GetAtt": [logical_id(web.distribution), "DomainName"]}],
                    ]
                }
            ),
            "Description": Match.string_like_regexp("web publish"),
        },
    )


CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-1111-2222-3333-444444444444"


def test_a_custom_domain_gets_its_certificate_tls_1_2_and_is_the_secure_link_base() -> None:
    """Construction only (no nag run): web.domain_name, its certificate and a country list."""
    web = {
        "domain_name": "inbox.harbor-counseling.example",
        "certificate_arn": CERTIFICATE,
        "allowed_countries": ["US"],
    }
    app = plain_app()
    env = cdk.Environment(account=ACCOUNT, region=REGION)
    stack = QuietlineStack(app, "Quietline", config=make_config(web=web), env=env)
    template = Template.from_stack(stack)

    resource(template, _web(stack).distribution).has_properties(
        {
            "DistributionConfig": {
                "Aliases": ["inbox.harbor-counseling.example"],
                "ViewerCertificate": Match.object_equals(
                    {
                        "AcmCertificateArn": CERTIFICATE,
                        "MinimumProtocolVersion": "TLSv1.2_2021",
                        "SslSupportMethod": "sni-only",
                    }
                ),
                "Restrictions": Match.exact(
                    {"GeoRestriction": {"Locations": ["US"], "RestrictionType": "whitelist"}}
                ),
            }
        }
    )
    origin = "https://inbox.harbor-counseling.example"
    template.has_output("WebUrl", {"Value": origin})
    secure_links = stack.secure_links
    assert secure_links is not None, "the hosted inbox serves the secure-message page"
    resource(template, secure_links.function.function).has_properties(
        {"Environment": {"Variables": {"QUIETLINE_SECURE_LINK_BASE_URL": origin}}}
    )


def test_the_session_routes_are_first_party_uncached_and_reach_only_the_staff_api(
    stack: QuietlineStack, app_template: Template
) -> None:
    # The refresh cookie is SameSite=Strict: the inbox reaches /session on its own origin,
    # and CloudFront hands those requests, cookie and Origin included, to the API's stage.
    web = _web(stack)
    behavior = {
        "ViewerProtocolPolicy": "https-only",
        "AllowedMethods": Match.array_with(["POST", "DELETE"]),
        "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",  # CachingDisabled
        # AllViewerExceptHostHeader: the API sees the cookie and Origin, not our Host.
        "OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
        "FunctionAssociations": Match.absent(),  # the page-mapping function is not in the way
    }
    resource(app_template, web.distribution).has_properties(
        {
            "DistributionConfig": {
                "CacheBehaviors": [
                    Match.object_like({"PathPattern": "/session", **behavior}),
                    Match.object_like({"PathPattern": "/session/*", **behavior}),
                ],
                "Origins": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "DomainName": {
                                    "Fn::Join": [
                                        "",
                                        Match.array_with(
                                            [ref(stack.staff_api.api), ".execute-api.us-east-1."]
                                        ),
                                    ]
                                },
                                "OriginPath": "/prod",
                                "CustomOriginConfig": Match.object_like(
                                    {
                                        "OriginProtocolPolicy": "https-only",
                                        "OriginSSLProtocols": ["TLSv1.2"],
                                    }
                                ),
                            }
                        )
                    ]
                ),
            }
        }
    )


def test_the_staff_api_renews_tokens_with_the_inboxs_app_client(
    stack: QuietlineStack, app_template: Template
) -> None:
    resource(app_template, stack.staff_api.function.function).has_properties(
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"QUIETLINE_USER_POOL_CLIENT_ID": ref(stack.identity.client)}
                )
            }
        }
    )
