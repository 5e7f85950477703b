"""Installs are reproducible: the bootstrap and the container image install from uv.lock with one pinned uv, on an
exactly tagged base image (a floating tag would change what `make test` validated without a commit)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_DOCKERFILE = (_ROOT / "deploy" / "Dockerfile").read_text()
_BOOTSTRAP = (_ROOT / "scripts" / "bootstrap.sh").read_text()


def _pyproject_uv_pin() -> str:
    dev: list[str] = tomllib.loads((_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["dev"]
    pins = [spec.removeprefix("uv==") for spec in dev if spec.startswith("uv==")]
    assert len(pins) == 1, "pyproject's dev extra pins uv exactly once"
    return pins[0]


def test_one_uv_version_everywhere() -> None:
    pinned = _pyproject_uv_pin()
    assert re.search(rf"^uv_version={re.escape(pinned)}$", _BOOTSTRAP, re.MULTILINE)
    assert f"uv=={pinned}" in _DOCKERFILE
    assert f'name = "uv"\nversion = "{pinned}"' in (_ROOT / "uv.lock").read_text()


def test_bootstrap_and_image_install_the_lock_without_resolving() -> None:
    assert re.search(r"uv sync .*--frozen.*--extra dev", _BOOTSTRAP)
    assert "uv lock --check" in _BOOTSTRAP
    syncs = re.findall(r"^RUN uv sync (.*)$", _DOCKERFILE, re.MULTILINE)
    assert syncs, "the image installs with uv sync"
    assert all("--frozen" in sync for sync in syncs)
    assert "COPY pyproject.toml uv.lock" in _DOCKERFILE


def test_base_image_has_an_exact_tag() -> None:
    images = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", _DOCKERFILE, re.MULTILINE)
    assert len(images) == 1
    image = images[0]
    # python:3.11.14-slim-bookworm (major.minor.patch and a distribution) or a digest
    assert "@sha256:" in image or re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", image), image
    froms = re.findall(r"^FROM (\S+)", _DOCKERFILE, re.MULTILINE)
    assert froms
    assert all(ref == "${PYTHON_IMAGE}" for ref in froms)
