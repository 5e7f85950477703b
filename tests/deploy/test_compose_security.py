"""docker-compose.yml publishes nothing beyond localhost unless asked, writes no secret, and keeps the demo's
public values and test servers behind the `demo` profile and deploy/compose/demo.env."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_ROOT = Path(__file__).resolve().parents[2]
_COMPOSE = _ROOT / "docker-compose.yml"
_DEMO_ENV = _ROOT / "deploy" / "compose" / "demo.env"
_SECRET_NAME = re.compile(r"(PASSWORD|SECRET|_KEY|_KEYS|TOKEN|DSN)$")
_REQUIRED_FROM_ENV = re.compile(r"^\$\{[A-Z_]+:\?[^}]*\}$")
_BIND = "${REGPIPE_BIND:-127.0.0.1}:"
_DEMO_ONLY = {"simulators", "dovecot"}


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load(_COMPOSE.read_text())["services"]
    return services


def test_valid_against_the_compose_specification() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    subprocess.run([str(checker), "--builtin-schema", "vendor.compose-spec", str(_COMPOSE)], check=True)


def test_ports_are_published_on_localhost_unless_asked() -> None:
    published = 0
    for name, service in _services().items():
        for port in service.get("ports", []):
            assert isinstance(port, str), f"{name}: use the short form with a host address"
            assert port.startswith((_BIND, "127.0.0.1:")), f"{name} publishes {port} beyond localhost"
            published += 1
    assert published >= 3


def test_no_secret_is_written_in_the_compose_file() -> None:
    checked = 0
    for name, service in _services().items():
        for variable, value in (service.get("environment") or {}).items():
            if variable == "POSTGRES_DSN":
                assert "${POSTGRES_PASSWORD:?" in str(value), (name, variable)
            elif _SECRET_NAME.search(variable) and not variable.endswith("ACTIVE_KEY"):
                assert _REQUIRED_FROM_ENV.match(str(value)), f"{name}: {variable} must come from the environment"
            else:
                continue
            checked += 1
    assert checked >= 15


def test_demo_servers_run_only_in_the_demo_profile() -> None:
    services = _services()
    for name in _DEMO_ONLY:
        assert services[name].get("profiles") == ["demo"], name
    for name, service in services.items():
        if name not in _DEMO_ONLY:
            assert not service.get("profiles"), f"{name} is part of every run"


def test_demo_values_are_marked_and_not_trivial() -> None:
    text = _DEMO_ENV.read_text()
    assert text.startswith("# DEMO ONLY")
    values = dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    assert values["REGPIPE_BIND"] == "127.0.0.1"
    for variable, value in values.items():
        assert not re.search(r"(A{16,}|0{16,})", value), f"{variable} is an all-zero key"
    # Every variable the compose file requires from the environment has a demo value.
    required = set(re.findall(r"\$\{([A-Z_]+):\?", _COMPOSE.read_text()))
    assert required <= set(values), required - set(values)
