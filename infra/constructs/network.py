"""Optional VPC for the Lambda functions (config `vpc.enabled`): no internet route at all.

Private isolated subnets reach AWS only through VPC endpoints; flow logs record every
connection attempt to an encrypted log group. Each interface endpoint costs about
$7/month per AZ, which is why the VPC is off by default.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import QuietlineConfig
from infra.constructs.roles import ManagedPolicyRole
from infra.retention import audit_log_retention

# Every AWS API the functions call, reached without leaving the VPC.
_INTERFACE_ENDPOINTS: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
}
# Carrier "aws": the sender calls End User Messaging (SendTextMessage) from the VPC.
# (Carrier "twilio" cannot be combined with the VPC: config.py refuses it.)
_SMS_VOICE_ENDPOINT = ("SmsVoice", ec2.InterfaceVpcEndpointAwsService.PINPOINT_SMS_VOICE_V2)


class Network(Construct):
    """VPC, endpoints, flow logs, and the security group the functions use."""

    def __init__(
        self, scope: Construct, id: str, *, config: QuietlineConfig, platform_key: kms.IKey
    ) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(config.vpc.cidr),
            max_azs=config.vpc.max_azs,
            nat_gateways=0,
            # Isolated subnets only: no internet gateway, no NAT, no public IPs
            # (VPCNoUnrestrictedRouteToIGW, VPCSubnetAutoAssignPublicIpDisabled).
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                )
            ],
            # VPCDefaultSecurityGroupClosed: strip the default security group's rules.
            restrict_default_security_group=True,
        )
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="Quietline functions: HTTPS out to AWS APIs only, nothing in",
            allow_all_outbound=False,
        )
        # The only routes are the VPC and the DynamoDB gateway endpoint, so 443 out
        # reaches AWS APIs and nothing else.
        self.function_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs through VPC endpoints"
        )
        self._flow_logs(config, platform_key)
        self._endpoints(config)

    def _flow_logs(self, config: QuietlineConfig, platform_key: kms.IKey) -> None:
        # VPCFlowLogsEnabled / 164.312(b): every accepted and rejected connection is logged.
        log_group = logs.LogGroup(
            self,
            "FlowLogs",
            encryption_key=platform_key,
            retention=audit_log_retention(config),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        role = ManagedPolicyRole(
            self,
            "FlowLogsRole",
            assumed_by=iam.ServicePrincipal("vpc-flow-logs.amazonaws.com"),
            description="Quietline VPC flow logs delivery",
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group, role),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _endpoints(self, config: QuietlineConfig) -> None:
        self.vpc.add_gateway_endpoint(
            "DynamoDb",
            service=ec2.GatewayVpcEndpointAwsService.DYNAMODB,
            subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
        )
        # Only the functions may reach the interface endpoints (not the whole VPC CIDR).
        endpoint_security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Quietline VPC endpoints: HTTPS in from the functions only",
            allow_all_outbound=False,
        )
        endpoint_security_group.add_ingress_rule(
            self.function_security_group, ec2.Port.tcp(443), "HTTPS from Quietline functions"
        )
        endpoints = dict(_INTERFACE_ENDPOINTS)
        if config.carrier == "aws":
            endpoints[_SMS_VOICE_ENDPOINT[0]] = _SMS_VOICE_ENDPOINT[1]
        for name, service in endpoints.items():
            self.vpc.add_interface_endpoint(
                name,
                service=service,
                # Private DNS: the SDKs' default endpoints resolve to the VPC endpoint.
                private_dns_enabled=True,
                security_groups=[endpoint_security_group],
                open=False,
            )
