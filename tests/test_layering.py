"""The import-layering contracts (checked by `lint-imports` in the test command) cover every library package, so
a new package cannot forget them."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
#: Packages that may import the simulators: the simulators themselves and the local demo that runs them.
_SIMULATOR_USERS = {"regpipe.simulators", "regpipe.demo"}


def _contract(name: str) -> dict[str, Any]:
    contracts: list[dict[str, Any]] = tomllib.loads((_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    return next(c for c in contracts if c["name"] == name)


def _library_packages() -> set[str]:
    packages = {f"regpipe.{p.name}" for p in (_ROOT / "libs" / "regpipe").iterdir() if (p / "__init__.py").exists()}
    assert packages, "no library packages found"
    return packages


def test_every_library_package_is_forbidden_to_import_services() -> None:
    assert _library_packages() == set(_contract("libs never import services")["source_modules"])


def test_every_product_package_is_forbidden_to_import_simulators() -> None:
    contract = _contract("product never imports simulators")
    assert contract["forbidden_modules"] == ["regpipe.simulators"]
    product = (_library_packages() - _SIMULATOR_USERS) | {"regpipe.services"}
    assert product == set(contract["source_modules"])
