"""The layering rule, read from the source: logic depends on ports, only adapters touch AWS.

handlers -> logic -> (Protocols in logic, domain types in core) <- dal / carriers. Every
import statement counts, including ones inside functions and `if TYPE_CHECKING:` blocks:
a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from infra.config import REPO_ROOT

pytestmark = pytest.mark.unit

FUNCTIONS = REPO_ROOT / "functions"
AWS_SDK = ("boto3", "botocore")
# Only the adapters may call AWS; everything else reaches it through them.
AWS_ADAPTERS = ("dal", "carriers")
# Parallel I/O lives in named places only: the cipher's KMS waves and the data layer's
# combined reads. Logic and handlers read top to bottom.
CONCURRENCY = "functions.core.concurrency"
CONCURRENT_PLACES = ("crypto", "dal")

# package under functions/ -> module prefixes it must never import
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "logic": ("functions.dal", "functions.handlers", "functions.wiring", CONCURRENCY, *AWS_SDK),
    "handlers": (CONCURRENCY,),
    "core": (
        "functions.dal",
        "functions.logic",
        "functions.crypto",
        "functions.carriers",
        "functions.handlers",
        "functions.wiring",
        *AWS_SDK,
    ),
    "crypto": (
        "functions.dal",
        "functions.logic",
        "functions.handlers",
        "functions.wiring",
        *AWS_SDK,
    ),
}


def _package_of(path: Path) -> str:
    """The dotted package a module's relative imports start from."""
    return ".".join(path.relative_to(REPO_ROOT).parent.parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every module `source` (a module of `package`) imports, by absolute dotted name.

    `from a.b import c` counts as both `a.b` and `a.b.c`, since `c` may be a module.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _violations(source: str, package: str, forbidden: tuple[str, ...], where: str) -> list[str]:
    return sorted(
        f"{where} imports {name}"
        for name in imported_modules(source, package)
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in forbidden)
    )


def _scan(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        violation
        for path in paths
        for violation in _violations(
            path.read_text(), _package_of(path), forbidden, str(path.relative_to(REPO_ROOT))
        )
    ]


def _modules_under(package: str) -> list[Path]:
    return sorted((FUNCTIONS / package).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it_or_beside_its_ports(package: str) -> None:
    # Given every module of the layer
    modules = _modules_under(package)
    assert modules, f"functions/{package} has no modules: the rule would check nothing"

    # When their imports are read
    found = _scan(modules, FORBIDDEN[package])

    # Then none reaches a forbidden layer
    assert found == []


def test_only_the_adapters_import_the_aws_sdk() -> None:
    # Given every module under functions/ outside the adapter packages
    adapters = {FUNCTIONS / name for name in AWS_ADAPTERS}
    modules = [
        path for path in sorted(FUNCTIONS.rglob("*.py")) if not adapters.intersection(path.parents)
    ]
    assert any(path.parent == FUNCTIONS / "handlers" for path in modules)

    # When their imports are read
    found = _scan(modules, AWS_SDK)

    # Then none imports boto3 or botocore
    assert found == []


def test_only_the_cipher_and_the_data_layer_run_calls_at_once() -> None:
    # Given every module under functions/ outside the named places (and the helper itself)
    places = {FUNCTIONS / name for name in CONCURRENT_PLACES}
    helper = FUNCTIONS / "core" / "concurrency.py"
    modules = [
        path
        for path in sorted(FUNCTIONS.rglob("*.py"))
        if path != helper and not places.intersection(path.parents)
    ]
    assert any(path.parent == FUNCTIONS / "logic" for path in modules)

    # When their imports are read
    found = _scan(modules, (CONCURRENCY,))

    # Then none reaches for the thread pool
    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import boto3\n", ["x.py imports boto3"]),
        (
            "from botocore.exceptions import ClientError\n",
            [
                "x.py imports botocore.exceptions",
                "x.py imports botocore.exceptions.ClientError",
            ],
        ),
        ("from functions import dal\n", ["x.py imports functions.dal"]),
        (
            "def later():\n    from functions.dal.queue import SqsQueue\n",
            [
                "x.py imports functions.dal.queue",
                "x.py imports functions.dal.queue.SqsQueue",
            ],
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import functions.dal.aws\n",
            ["x.py imports functions.dal.aws"],
        ),
        (
            "from ..dal import aws\n",
            ["x.py imports functions.dal", "x.py imports functions.dal.aws"],
        ),
        ("from functions.dalek import x\nimport boto3stub\n", []),
    ],
)
def test_the_scan_catches_every_form_of_a_forbidden_import(
    source: str, expected: list[str]
) -> None:
    # Given a logic module's source / When it is scanned / Then each forbidden import shows
    assert _violations(source, "functions.logic", FORBIDDEN["logic"], "x.py") == expected
