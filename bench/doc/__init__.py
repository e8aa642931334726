"""The sections of docs/benchmarks.md, one module each (registered in bench/report.py)."""
