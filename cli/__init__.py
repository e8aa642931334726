"""The `quietline` operator CLI: works against a deployed stack or against local mode."""
