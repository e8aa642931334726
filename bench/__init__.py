"""`make bench` (`python -m bench`): Quietline's benchmarks (issue #8).

Writes docs/benchmarks.md and docs/benchmarks.json. Never part of `make test`: timing
belongs here, and the test suite only checks the pure helpers (tests/unit/test_bench_*).
"""
