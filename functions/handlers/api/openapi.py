"""GET /openapi.json: the API's OpenAPI 3.1 document, generated from its routes and models."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router

from functions.handlers.api.policy import ROUTES, route

API_TITLE = "Quietline staff API"
API_VERSION = "1.0.0"

router = Router()


def schema_of(app: ApiGatewayResolver) -> dict[str, Any]:
    schema: dict[str, Any] = app.get_openapi_schema(
        title=API_TITLE, version=API_VERSION
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    schema["components"]["securitySchemes"] = {
        "cognito": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A Cognito ID token (MFA-verified sign-in).",
        }
    }
    for policy in ROUTES:
        operation = schema["paths"][policy.path][policy.method.lower()]
        if not policy.public:
            operation["security"] = [{"cognito": []}]
        operation["x-quietline-audit"] = policy.audit
        operation["x-quietline-admin-only"] = policy.admin_only
    return schema


@route(router, "GET", "/openapi.json", audit=None, public=True)
def openapi_document() -> dict[str, Any]:
    resolver = router.api_resolver
    assert isinstance(resolver, ApiGatewayResolver)  # set when the app includes this router
    return schema_of(resolver)
