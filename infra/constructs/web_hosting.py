"""The web inbox and the clients' secure-message page, served from S3 through CloudFront.

The bucket is private (CloudFront reads it through Origin Access Control, nothing else
can); a viewer-request function maps the same paths local mode serves (`/` the inbox,
`/s` the secure page, `/app/<asset>`) and answers 404 to anything else, so no
other object is ever reachable; the response-headers policy sends the same CSP and
security headers as local mode (infra/web_policy.py) plus HSTS. The files hold no PHI:
PHI only travels between the browser and the staff API (its own origin, CORS for this
one). `quietline web publish` uploads web/ and app/config.json after `cdk deploy`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from constructs import Construct

from functions.handlers.api.browser_session import SESSION_PATH
from infra.buckets import PRIVATE_BUCKET, access_log_bucket
from infra.config import QuietlineConfig
from infra.constructs.rest_api import STAGE_NAME
from infra.nag import acknowledge
from infra.web_policy import (
    ASSET_DIR,
    ASSET_NAME_PATTERN,
    INBOX_PAGE,
    SECURE_PAGE,
    SECURE_PAGE_PATH,
    SECURITY_HEADERS,
    SERVICE_WORKER,
    SERVICE_WORKER_PATH,
    cognito_endpoint_for,
    content_security_policy,
)

# CloudFront Functions (cloudfront-js-2.0): rewrite the three shapes, refuse the rest. A
# secure link's token is in the fragment (/s#<token>): CloudFront never sees it.
VIEWER_REQUEST_CODE = f"""function handler(event) {{
  var request = event.request;
  var uri = request.uri;
  if (uri === "/") {{
    request.uri = "/{INBOX_PAGE}";
    return request;
  }}
  if (uri === "{SECURE_PAGE_PATH}") {{
    request.uri = "/{SECURE_PAGE}";
    return request;
  }}
  if (uri === "{SERVICE_WORKER_PATH}") {{
    request.uri = "/{SERVICE_WORKER}";
    return request;
  }}
  if (/^\\/{ASSET_DIR}\\/{ASSET_NAME_PATTERN}$/.test(uri)) {{
    return request;
  }}
  return {{
    statusCode: 404,
    statusDescription: "Not Found",
    headers: {{ "cache-control": {{ value: "no-store" }} }}
  }};
}}
"""

_ENCRYPTION_REASON = (
    "{what} holds no PHI ({holds}); it is encrypted with S3-managed keys because {why}."
    " PHI is only ever in the staff API's responses, under the practice's KMS keys."
)
_REPLICATION_REASON = (
    "{what} holds no PHI and nothing that cannot be rebuilt ({holds}); versioning keeps"
    " overwritten objects, and a second-region copy would add cost without protecting"
    " any record the practice must keep."
)
_STATIC_FILES = "the inbox's HTML, scripts, styles and its public config.json"
_ACCESS_LOGS = "CloudFront and S3 access logs: paths, status codes, client IPs"


class WebInbox(Construct):
    """Private bucket + CloudFront distribution for web/ (see the module docstring)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        api_origins: list[str],
        session_api: apigw.RestApi | None = None,
    ) -> None:
        """`session_api`: the staff API whose /session routes the inbox reaches on its own
        origin (the refresh cookie is SameSite=Strict; docs/access.md)."""
        super().__init__(scope, id)
        web = config.web
        # CloudFront's standard logs are delivered with an ACL grant (object writer).
        self.logs = access_log_bucket(
            self, config.audit_retention_days, s3.ObjectOwnership.OBJECT_WRITER
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            **PRIVATE_BUCKET,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.logs,
            server_access_logs_prefix="s3/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireReplacedFiles",
                    noncurrent_version_expiration=cdk.Duration.days(30),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            # Rebuilt by `quietline web publish`; nothing in it outlives the stack.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.viewer_request = cloudfront.Function(
            self,
            "ViewerRequest",
            code=cloudfront.FunctionCode.from_inline(VIEWER_REQUEST_CODE),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
            comment="Quietline inbox: map /, /s and /app/<asset>; 404 otherwise",
        )
        stack = cdk.Stack.of(self)
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "Headers",
            comment="Quietline inbox: CSP, HSTS and the security headers of local mode",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(
                        cognito_endpoint_for(stack.region, stack.url_suffix), *api_origins
                    ),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=cdk.Duration.days(730),
                    include_subdomains=True,
                    override=True,
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                    for name, value in SECURITY_HEADERS.items()
                    if name in ("Cross-Origin-Opener-Policy", "Permissions-Policy")
                ]
            ),
            remove_headers=["Server"],
        )
        certificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", web.certificate_arn)
            if web.certificate_arn
            else None
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Quietline web inbox of {config.practice_name}",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                # A handful of staff: always fresh after a publish, no invalidations.
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                response_headers_policy=self.headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=self.viewer_request,
                        event_type=cloudfront.FunctionEventType.VIEWER_REQUEST,
                    )
                ],
            ),
            additional_behaviors=self._session_behavior(session_api),
            domain_names=[web.domain_name] if web.domain_name else None,
            certificate=certificate,
            minimum_protocol_version=cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            geo_restriction=(
                cloudfront.GeoRestriction.allowlist(*web.allowed_countries)
                if web.allowed_countries
                else None
            ),
            enable_logging=True,
            log_bucket=self.logs,
            log_file_prefix="cloudfront/",
        )
        self.origin = (
            f"https://{web.domain_name}"
            if web.domain_name
            else f"https://{self.distribution.distribution_domain_name}"
        )
        self._acknowledge(config)

    def _session_behavior(
        self, session_api: apigw.RestApi | None
    ) -> dict[str, cloudfront.BehaviorOptions] | None:
        """/session and /session/* go to the staff API's stage, uncached, cookies and all.

        The inbox and the API are different sites (CloudFront and execute-api), so a
        SameSite=Strict cookie set by the API itself would never be sent back from the
        inbox's pages. Served here, the cookie is first-party, scoped to /session, and
        travels only between the inbox's origin and these routes. They carry tokens, never
        PHI: PHI still goes to the API's own origin only.
        """
        if session_api is None:
            return None
        stack = cdk.Stack.of(self)
        behavior = cloudfront.BehaviorOptions(
            origin=origins.HttpOrigin(
                f"{session_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}",
                origin_path=f"/{STAGE_NAME}",
                protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
                origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            ),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Cookie and Origin reach the API; Host stays the API's own (execute-api).
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=self.headers,
        )
        return {SESSION_PATH: behavior, f"{SESSION_PATH}/*": behavior}

    def _acknowledge(self, config: QuietlineConfig) -> None:
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            _ENCRYPTION_REASON.format(
                what="The inbox bucket",
                holds=_STATIC_FILES,
                why="reading SSE-KMS objects through CloudFront would give the CloudFront"
                " service decrypt rights on a practice key",
            ),
        )
        acknowledge(
            self.logs,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            _ENCRYPTION_REASON.format(
                what="The inbox's access-log bucket",
                holds=_ACCESS_LOGS,
                why="CloudFront's standard log delivery writes with an ACL grant and cannot"
                " use a customer managed key",
            ),
        )
        for bucket, holds in ((self.bucket, _STATIC_FILES), (self.logs, _ACCESS_LOGS)):
            acknowledge(
                bucket,
                "HIPAA.Security-S3BucketReplicationEnabled",
                _REPLICATION_REASON.format(what="This bucket", holds=holds),
            )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "The distribution serves only static files with no PHI and no sign-in; PHI and"
            " authentication go to the staff API, which has its own regional WAF web ACL"
            " when waf.enabled (a CloudFront web ACL must live in us-east-1 and costs"
            " $5/month more).",
        )
        if not config.web.allowed_countries:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR1",
                "No geo restriction by default: a client travelling abroad must still be able"
                " to open a secure link; a practice can limit countries with"
                " web.allowed_countries.",
            )
        if config.web.certificate_arn is None:
            acknowledge(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without web.domain_name the distribution uses CloudFront's default"
                " *.cloudfront.net certificate, whose TLS policy cannot be chosen; with a"
                " custom domain and certificate the minimum is TLSv1.2_2021.",
            )
