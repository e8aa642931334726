"""What `make run` serves: each route maps to the Lambda handler API Gateway would call."""

from __future__ import annotations

from local.apigw import Route

ROUTES: tuple[Route, ...] = (Route("GET", "/health", "functions.handlers.health.handler"),)
