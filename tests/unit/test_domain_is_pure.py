"""The domain imports only the standard library and itself, so its rules run anywhere, untouched by I/O."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "tenure" / "domain"
MODULES = sorted(DOMAIN.rglob("*.py"))


def foreign_imports(source: str) -> list[str]:
    """Every imported module that is neither the standard library nor `tenure.domain` itself."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside tenure.domain by construction
                continue
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in (
            "import_module",
            "__import__",
        ):
            names = [arg.value for arg in node.args[:1] if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            names = names or ["<dynamic import>"]
        else:
            continue
        found.extend(name for name in names if not _allowed(name))
    return found


def _allowed(name: str) -> bool:
    return name == "tenure.domain" or name.startswith("tenure.domain.") or name.split(".")[0] in sys.stdlib_module_names


def test_the_domain_has_modules() -> None:
    assert {p.name for p in MODULES} >= {"model.py", "lifecycle.py", "policy.py", "events.py", "errors.py"}


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(DOMAIN)))
def test_a_domain_module_imports_only_the_standard_library(module: Path) -> None:
    assert foreign_imports(module.read_text()) == []


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import sqlalchemy", ["sqlalchemy"]),
        ("from sqlalchemy.orm import Session", ["sqlalchemy.orm"]),
        ("import os, pydantic", ["pydantic"]),
        ("def f():\n    from tenure.adapters.db import uow", ["tenure.adapters.db"]),
        ("from tenure.services import accounts", ["tenure.services"]),
        ("from tenure import config", ["tenure"]),
        ("import importlib\nimportlib.import_module('fastapi')", ["fastapi"]),
        ("import phonenumbers as pn", ["phonenumbers"]),
        ("from __future__ import annotations\nimport enum, zoneinfo\nfrom tenure.domain.model import Kind", []),
        ("from . import model\nfrom .errors import NotFound", []),
    ],
)
def test_the_check_catches_foreign_imports(source: str, bad: list[str]) -> None:
    assert foreign_imports(source) == bad
