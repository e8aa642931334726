#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth|deploy [-c config=path/to/config.json]`."""

from __future__ import annotations

import sys

from infra.app_factory import build_app, create_app
from infra.config import ConfigError, load_config


def main() -> None:
    app = create_app()
    try:
        config = load_config(app.node.try_get_context("config"))
        build_app(config, app=app)
    except ConfigError as error:
        sys.exit(f"Quietline configuration error: {error}")
    app.synth()


if __name__ == "__main__":
    main()
