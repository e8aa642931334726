"""AWS WAF for a public API stage (config `waf.enabled`): per-IP rate limit, AWS common rules.

Off by default: a web ACL costs about $5/month plus $1 per rule and per million
requests. Its logs go to an encrypted, retained log group (WAFv2LoggingEnabled).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from infra.config import QuietlineConfig
from infra.retention import audit_log_retention

# WAF only delivers to log groups whose name starts with this.
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"


def _visibility(metric_name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    # Sampled requests keep headers and URI for 3 hours, never the body.
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True,
        metric_name=metric_name,
        sampled_requests_enabled=True,
    )


class StageFirewall(Construct):
    """A REGIONAL web ACL associated with one API Gateway stage."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: QuietlineConfig,
        platform_key: kms.IKey,
        stage: apigw.Stage,
        name: str,
    ) -> None:
        super().__init__(scope, id)
        metric_prefix = f"{config.stack_name}-{name}"
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=_visibility(metric_prefix),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="RateLimitPerIp",
                    priority=0,
                    # A flood from one address is blocked before it reaches the Lambda.
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=config.waf.requests_per_5_minutes_per_ip,
                            aggregate_key_type="IP",
                            evaluation_window_sec=300,
                        )
                    ),
                    visibility_config=_visibility(f"{metric_prefix}-rate"),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    name="AwsCommonRules",
                    priority=1,
                    # Count, not block: these rules read the request body, which is a
                    # client's free text ("<3", "../", long messages trip the XSS, LFI and
                    # size rules). A blocked webhook is a lost message from a client; a
                    # forged one is refused by the signature check anyway. Matches are
                    # counted in metrics and logs for review.
                    override_action=wafv2.CfnWebACL.OverrideActionProperty(count={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                            vendor_name="AWS", name="AWSManagedRulesCommonRuleSet"
                        )
                    ),
                    visibility_config=_visibility(f"{metric_prefix}-common"),
                ),
            ],
        )
        self._logging(config, platform_key, name)
        wafv2.CfnWebACLAssociation(
            self, "Association", resource_arn=stage.stage_arn, web_acl_arn=self.web_acl.attr_arn
        )

    def _logging(self, config: QuietlineConfig, platform_key: kms.IKey, name: str) -> None:
        log_group_name = f"{WAF_LOG_GROUP_PREFIX}{config.stack_name}-{name}"
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=log_group_name,
            # A rule match may quote a fragment of the body (a client's text): the log
            # is treated as PHI, encrypted with our key and kept like the audit logs.
            encryption_key=platform_key,
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        logging = wafv2.CfnLoggingConfiguration(
            self,
            "Logging",
            resource_arn=self.web_acl.attr_arn,
            # WAF wants the log group ARN without the ":*" that LogGroup.logGroupArn ends with.
            log_destination_configs=[
                cdk.Stack.of(self).format_arn(
                    service="logs",
                    resource="log-group",
                    resource_name=log_group_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            ],
        )
        logging.node.add_dependency(self.log_group)
