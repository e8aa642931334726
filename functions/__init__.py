"""Quietline Lambda code: handlers (wiring) -> logic (pure, injected ports) -> dal (boto3)."""
