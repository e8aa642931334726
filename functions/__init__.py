"""Quietline Lambda code: handlers (thin wiring) -> logic (pure, injected ports) -> dal (boto3)."""
