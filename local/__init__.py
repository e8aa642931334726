"""Local mode: moto standing in for AWS, the Lambda handlers served over HTTP."""
