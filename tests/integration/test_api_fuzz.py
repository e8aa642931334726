"""The API fuzzed from its own OpenAPI document: no 5xx, no stack trace, no PHI in errors."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.handlers.api import openapi_schema
from tests.integration.api_harness import call
from tests.integration.conftest import StaffApi
from tests.phi_samples import BODY, CLIENT_PHONE, PHI_VALUES

pytestmark = pytest.mark.integration

OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, item in openapi_schema()["paths"].items()
    for method, operation in item.items()
)
_text = st.one_of(st.text(max_size=40), st.sampled_from(PHI_VALUES), st.just("x" * 5000))
_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(_text, children, max_size=4)
    ),
    max_leaves=12,
)


def _shaped_body(operation: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Bodies with the documented field names but arbitrary values, and pure noise."""
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref", "")
    if not reference:
        return st.one_of(st.none(), _json)
    schema = openapi_schema()["components"]["schemas"][reference.rsplit("/", 1)[-1]]
    fields = list(schema.get("properties", {}))
    return st.one_of(_json, st.fixed_dictionaries({}, optional={f: _json for f in fields}))


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_requests_never_fail_the_server_or_echo_phi(
    staff_api: StaffApi, method: str, path: str, operation: dict[str, Any], data: st.DataObject
) -> None:
    params = {
        p["name"]: data.draw(
            st.one_of(_text.filter(lambda t: "/" not in t and t != ""), st.just(CLIENT_PHONE))
        )
        for p in operation.get("parameters", [])
        if p["in"] == "path"
    }
    query = {
        p["name"]: data.draw(_text)
        for p in operation.get("parameters", [])
        if p["in"] == "query" and data.draw(st.booleans())
    }
    caller = data.draw(st.sampled_from([staff_api.admin, staff_api.clinician, staff_api.anonymous]))
    response = call(
        caller,
        method,
        path,
        path_params=params,
        query=query or None,
        body=data.draw(_shaped_body(operation)),
    )
    assert response.status < 500, response.text
    assert "Traceback" not in response.text
    if response.status >= 400:
        for value in (BODY, CLIENT_PHONE, *PHI_VALUES, "x" * 100):
            assert value not in response.text
