"""The import-layering contracts (checked by `lint-imports` in the test command) cover every library package."""

from __future__ import annotations

import tomllib
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]


def test_every_library_package_is_forbidden_to_import_services() -> None:
    config = tomllib.loads((_ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    libs_rule = next(c for c in contracts if c["name"] == "libs never import services")
    packages = {f"regpipe.{p.name}" for p in (_ROOT / "libs" / "regpipe").iterdir() if (p / "__init__.py").exists()}
    assert packages, "no library packages found"
    assert packages == set(libs_rule["source_modules"])
