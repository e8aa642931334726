"""One synth per test session of each real app variant (built by
infra.app_factory.build_app, exactly as app.py builds it) and one of the QuietlineFunction
test stacks.

xdist groups: tests of the default app and the function stacks are in group "synth",
tests of the Twilio variant in group "synth-twilio", so with `-n 2 --dist loadgroup`
the two workers synthesize in parallel and each variant is synthesized once."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Template
from constructs import IConstruct

from infra.app_factory import build_app, cdk_json_context, create_app, resolve_environment
from infra.config import ConfigError, QuietlineConfig, parse_config
from infra.nag import RULE_PACKS
from infra.stack import QuietlineStack
from tests.infra.function_stack import FunctionTestStack

T = TypeVar("T")

ACCOUNT = "123456789012"
REGION = "us-east-1"
ALARM_EMAIL = "alarms@harbor-counseling.example"
TENANT_IDS = ("harbor", "cedar")
# Tests never run pip: bundling is skipped and the asset is the functions/ source folder.
SKIP_BUNDLING: dict[str, Any] = {"aws:cdk:bundling-stacks": []}

TEST_CONFIG: dict[str, Any] = {
    "practice_name": "Harbor Counseling",
    "account": ACCOUNT,
    "region": REGION,
    "alarm_email": ALARM_EMAIL,
    "tenants": [
        {
            "id": "harbor",
            "display_name": "Harbor Counseling",
            "business_numbers": ["+12065550100"],
            "support_contact": "(206) 555-0100",
        },
        {
            "id": "cedar",
            "display_name": "Cedar Therapy",
            "business_numbers": ["+12065550123"],
            "support_contact": "https://cedar.example/help",
        },
    ],
}


TWILIO_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
STAFF_EMAIL = "frontdesk@harbor-counseling.example"
INBOX_ORIGIN = "https://inbox.harbor-counseling.example"
# The Twilio variant also turns WAF on, subscribes staff, hosts the inbox elsewhere (its
# origin set, no CloudFront here) and relies on an existing organization trail, to cover
# those paths.
TWILIO_OVERRIDES: dict[str, Any] = {
    "carrier": "twilio",
    "twilio": {"account_sid": TWILIO_ACCOUNT_SID},
    "waf": {"enabled": True, "requests_per_5_minutes_per_ip": 600},
    "staff_notification_emails": [STAFF_EMAIL],
    "web": {"enabled": False},
    "inbox_origin": INBOX_ORIGIN,
    "cloudtrail": {"existing_trail": True},
}


def config_data(**overrides: Any) -> dict[str, Any]:
    """The test configuration as the JSON file would hold it, with some fields replaced."""
    return {**copy.deepcopy(TEST_CONFIG), **overrides}


def make_config(**overrides: Any) -> QuietlineConfig:
    return parse_config(config_data(**overrides), source="test config")


CONFIG_SOURCE = "quietline.config.json"


def config_error(data: dict[str, Any]) -> str:
    """The one-line error parsing `data` raises (as read from CONFIG_SOURCE)."""
    with pytest.raises(ConfigError) as raised:
        parse_config(data, source=CONFIG_SOURCE)
    message = str(raised.value)
    assert "\n" not in message
    return message


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    outdir: Path
    stacks: dict[str, cdk.Stack]  # stack name -> stack
    templates: dict[str, dict[str, Any]]  # stack name -> template JSON
    _assertions: dict[str, Template] = field(default_factory=dict, repr=False, compare=False)

    def template(self, stack_name: str) -> Template:
        """The stack's template for aws_cdk.assertions, parsed once per session."""
        if stack_name not in self._assertions:
            self._assertions[stack_name] = Template.from_json(self.templates[stack_name])
        return self._assertions[stack_name]

    @property
    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(
            (self.outdir / "validation-report.json").read_text(encoding="utf-8")
        )
        return report


def _synthesize(app: cdk.App, outdir: Path, stacks: list[cdk.Stack]) -> Synthesized:
    # Raises if cdk-nag reports any unacknowledged finding.
    assembly = app.synth()
    templates = {artifact.stack_name: artifact.template for artifact in assembly.stacks}
    return Synthesized(
        app=app,
        outdir=outdir,
        stacks={stack.stack_name: stack for stack in stacks},
        templates=templates,
    )


@pytest.fixture(scope="session")
def quietline(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The real Quietline app (VPC off, the default)."""
    outdir = tmp_path_factory.mktemp("quietline-cdk.out")
    app, stack = build_app(make_config(), outdir=str(outdir), context=SKIP_BUNDLING)
    return _synthesize(app, outdir, [stack])


@pytest.fixture(scope="session")
def twilio(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The real app with carrier "twilio", WAF on, CORS for the inbox and an existing
    organization trail (tests in xdist group synth-twilio)."""
    outdir = tmp_path_factory.mktemp("twilio-cdk.out")
    app, stack = build_app(
        make_config(**TWILIO_OVERRIDES), outdir=str(outdir), context=SKIP_BUNDLING
    )
    return _synthesize(app, outdir, [stack])


@pytest.fixture(scope="session")
def stack(quietline: Synthesized) -> QuietlineStack:
    found = quietline.stacks["Quietline"]
    assert isinstance(found, QuietlineStack)
    return found


@pytest.fixture(scope="session")
def template(quietline: Synthesized) -> dict[str, Any]:
    """The default app's template as JSON (for text scans and test_audit.py)."""
    return quietline.templates["Quietline"]


@pytest.fixture(scope="session")
def app_template(quietline: Synthesized) -> Template:
    """The default app's template for aws_cdk.assertions."""
    return quietline.template("Quietline")


@pytest.fixture(scope="session")
def twilio_template(twilio: Synthesized) -> Template:
    """The Twilio variant's template for aws_cdk.assertions."""
    return twilio.template("Quietline")


@pytest.fixture(scope="session")
def function_stacks(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """QuietlineFunction in a test app: one stack without VPC, one with (vpc.enabled)."""
    outdir = tmp_path_factory.mktemp("functions-cdk.out")
    app = create_app(outdir=str(outdir), context=SKIP_BUNDLING)
    stacks: list[cdk.Stack] = []
    for name, vpc_enabled in (("FunctionsNoVpc", False), ("FunctionsInVpc", True)):
        config = make_config(stack_name=name, vpc={"enabled": vpc_enabled})
        stacks.append(FunctionTestStack(app, name, config=config, env=resolve_environment(config)))
    return _synthesize(app, outdir, stacks)


# --- template helpers ------------------------------------------------------------------
def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def get_att_arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def only(items: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(items) == 1, sorted(items)
    return next(iter(items.items()))


def logical_id(construct: IConstruct) -> str:
    """Logical id of an L1 resource, or of an L2 construct's default resource."""
    element = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    assert isinstance(element, cdk.CfnElement), construct.node.path
    return cdk.Stack.of(element).get_logical_id(element)


def statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = policy_document["Statement"]
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def resource_types(synthesized: Synthesized) -> list[str]:
    """Every resource type in the synthesized templates, sorted."""
    return sorted(
        {
            resource["Type"]
            for template in synthesized.templates.values()
            for resource in template["Resources"].values()
        }
    )


def quietline_stack(synthesized: Synthesized) -> QuietlineStack:
    (found,) = synthesized.stacks.values()
    assert isinstance(found, QuietlineStack)
    return found


def only_template(synthesized: Synthesized) -> dict[str, Any]:
    (found,) = synthesized.templates.values()
    return found


# --- aws_cdk.assertions on one resource ---------------------------------------------------
@dataclass(frozen=True)
class Resource:
    """One resource of a synthesized template, matched with aws_cdk.assertions.

    `template` holds this resource only, so `has_properties` names the construct's own
    resource (not "some resource of the type") and a Capture sees this resource's values.
    """

    logical_id: str
    type: str
    template: Template

    def has(self, definition: Any) -> None:
        """The whole resource (Properties, DeletionPolicy, DependsOn, ...) matches."""
        self.template.has_resource(self.type, definition)

    def has_properties(self, properties: Any) -> None:
        self.template.has_resource_properties(self.type, properties)

    def lacks(self, properties: Any) -> None:
        """The resource's properties do not match (e.g. {"CacheClusterEnabled": True})."""
        self.template.resource_properties_count_is(self.type, properties, 0)

    def statements(self, document: str = "PolicyDocument") -> list[dict[str, Any]]:
        """The statements of the resource's policy document (a key's: "KeyPolicy")."""
        captured = Capture()
        self.has_properties({document: {"Statement": captured}})
        found: list[dict[str, Any]] = captured.as_array()
        return found


def _cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    element = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    assert isinstance(element, cdk.CfnResource), construct.node.path
    return element


def _alone(resource_type: str, found_id: str, definition: Any) -> Resource:
    alone = Template.from_json(
        {"Resources": {found_id: definition}}, skip_cyclical_dependencies_check=True
    )
    return Resource(logical_id=found_id, type=resource_type, template=alone)


def resource_by_id(template: Template, resource_type: str, found_id: str) -> Resource:
    """The resource with this logical id (and type)."""
    found = template.find_resources(resource_type)
    assert found_id in found, f"no {resource_type} {found_id} in the template"
    return _alone(resource_type, found_id, found[found_id])


def every_resource(template: Template, resource_type: str, properties: Any) -> list[Resource]:
    """Each resource of the type whose properties match (fails if there is none), to
    assert more of each: `for r in every_resource(...): r.has_properties(...)`."""
    found = template.find_resources(resource_type, {"Properties": properties})
    assert found, f"no {resource_type} matches {properties}"
    return [_alone(resource_type, found_id, definition) for found_id, definition in found.items()]


def resource(template: Template, construct: IConstruct) -> Resource:
    """The construct's own resource (an L1, or an L2's default resource)."""
    return resource_by_id(
        template, _cfn_resource(construct).cfn_resource_type, logical_id(construct)
    )


def single(template: Template, resource_type: str, properties: Any) -> Resource:
    """The one resource of the type whose properties match (fails unless exactly one)."""
    return resource_by_id(
        template, resource_type, template.get_resource_id(resource_type, {"Properties": properties})
    )


def api_paths(template: Template, api: IConstruct) -> dict[str, dict[str, Any]]:
    """URL path -> the ResourceId its methods name, for every path of the REST API ("/"
    is the API's root resource)."""
    found = template.find_resources(
        "AWS::ApiGateway::Resource", {"Properties": {"RestApiId": ref(api)}}
    )

    def path(resource_id: str) -> str:
        properties = found[resource_id]["Properties"]
        parent = properties["ParentId"]
        prefix = "" if "Fn::GetAtt" in parent else path(parent["Ref"])
        return f"{prefix}/{properties['PathPart']}"

    root = {"Fn::GetAtt": [logical_id(api), "RootResourceId"]}
    return {"/": root, **{path(resource_id): {"Ref": resource_id} for resource_id in found}}


def ref(construct: IConstruct) -> dict[str, Any]:
    return {"Ref": logical_id(construct)}


def arn(construct: IConstruct) -> dict[str, Any]:
    """The template's GetAtt of the construct's resource ARN."""
    return get_att_arn(logical_id(construct))


def every_capture(capture: Capture, read: Callable[[Capture], T]) -> list[T]:
    """Every value a Capture took, in template order (one per matching resource), read
    with e.g. Capture.as_array."""
    found = [read(capture)]
    while capture.next():
        found.append(read(capture))
    return found


def plain_app() -> cdk.App:
    """An app with cdk.json's flags but no cdk-nag, for construction-only variants that
    check one setting (Template.from_stack) without a second nag run."""
    return cdk.App(context={**cdk_json_context(), **SKIP_BUNDLING})


# --- cdk-nag acknowledgements -------------------------------------------------------------
def acknowledgements(app: IConstruct) -> list[tuple[str, str, str]]:
    """(rule id, construct path, reason) of every cdk-nag acknowledgement in the app.

    CDK's own constructs acknowledge some CloudFormation-lint rules (e.g. W3010 on a
    VPC's hard-coded AZs); those are theirs, not ours, and are left out.
    """
    found = []
    for construct in app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type != cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                continue
            for qualified_id, reason in entry.data.items():
                namespace, rule = qualified_id.split("::", 1)
                if namespace in RULE_PACKS:
                    found.append((rule, construct.node.path, reason))
    return found


def suppressed_violations(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for plugin in report["pluginReports"] for v in plugin.get("suppressedViolations", [])]


def check_regional_stage(stage: Resource) -> None:
    """What infra/constructs/rest_api.py's `regional_api()` gives every REST API's stage:
    traced, throttled (rate <= burst), INFO execution logs without bodies, no cache."""
    rate, burst = Capture(), Capture()
    stage.has_properties(
        {
            "StageName": "prod",
            "TracingEnabled": True,
            "MethodSettings": [
                {
                    "HttpMethod": "*",
                    "ResourcePath": "/*",
                    "DataTraceEnabled": False,
                    "CachingEnabled": False,
                    "LoggingLevel": "INFO",
                    "ThrottlingRateLimit": rate,
                    "ThrottlingBurstLimit": burst,
                }
            ],
        }
    )
    stage.lacks({"CacheClusterEnabled": True})
    assert 0 < rate.as_number() <= burst.as_number()
