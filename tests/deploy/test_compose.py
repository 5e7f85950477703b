"""docker-compose.yml and the code agree: every regpipe service it runs exists, and every variable it sets is a
setting that service reads (a typo would otherwise be silently ignored by the settings models)."""

from __future__ import annotations

import importlib
import inspect
import tomllib
from pathlib import Path
from typing import Any

import typer
import yaml
from pydantic_settings import BaseSettings

_ROOT = Path(__file__).resolve().parents[2]


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((_ROOT / "docker-compose.yml").read_text())
    return loaded


def _scripts() -> dict[str, str]:
    project = tomllib.loads((_ROOT / "pyproject.toml").read_text())
    scripts: dict[str, str] = project["project"]["scripts"]
    return scripts


def _regpipe_services() -> dict[str, tuple[str, dict[str, Any]]]:
    """compose service -> (console script, environment) for every container running one of our commands."""
    found = {}
    for name, spec in _compose()["services"].items():
        command = spec.get("command") or []
        if command and str(command[0]).startswith("regpipe-"):
            found[name] = (str(command[0]), dict(spec.get("environment") or {}))
    return found


def _settings_class(script_target: str) -> type[BaseSettings]:
    # "regpipe.services.<name>.__main__:main" -> the one BaseSettings subclass defined (not imported: the
    # building blocks it composes) in regpipe.services.<name>.settings
    package = script_target.split(":")[0].rsplit(".", 1)[0]
    module = importlib.import_module(f"{package}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseSettings) and obj.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"{package}.settings must define exactly one settings class, found {classes}"
    return classes[0]


def _typer_envvars(script_target: str) -> set[str]:
    module_name, attr = script_target.split(":")
    module = importlib.import_module(module_name)
    app = module.app if hasattr(module, "app") else getattr(module, attr)
    command: Any = typer.main.get_command(app)
    params: list[Any] = []
    # A typer app with several commands is a group (typer vendors its own click, hence the duck typing).
    for sub in getattr(command, "commands", {}).values() or [command]:
        params.extend(sub.params)
    names: set[str] = set()
    for param in params:
        envvar = getattr(param, "envvar", None)
        if isinstance(envvar, str):
            names.add(envvar)
        elif envvar:
            names.update(envvar)
    return names


def test_compose_runs_every_service_of_the_code() -> None:
    services_dir = _ROOT / "services" / "regpipe" / "services"
    in_code = {p.name for p in services_dir.iterdir() if (p / "__main__.py").exists()}
    scripts = _scripts()
    in_compose = {
        scripts[script].split(":")[0].split(".")[2]
        for script, _ in _regpipe_services().values()
        if scripts[script].startswith("regpipe.services.")
    }
    assert in_code == in_compose


def test_every_command_in_compose_is_a_console_script() -> None:
    scripts = _scripts()
    for name, (script, _) in _regpipe_services().items():
        assert script in scripts, f"compose service {name} runs unknown command {script}"


def test_every_variable_in_compose_is_a_setting_of_its_service() -> None:
    scripts = _scripts()
    checked = 0
    for name, (script, env) in _regpipe_services().items():
        target = scripts[script]
        if target.startswith("regpipe.services."):
            settings = _settings_class(target)
            known = {field.upper() for field in settings.model_fields}
        else:
            known = _typer_envvars(target)
        unknown = sorted(set(env) - known)
        assert not unknown, f"compose service {name} sets variables its code never reads: {unknown}"
        checked += len(env)
    assert checked > 40  # the compose file really configures the services


def test_required_settings_are_all_given() -> None:
    scripts = _scripts()
    for name, (script, env) in _regpipe_services().items():
        target = scripts[script]
        if not target.startswith("regpipe.services."):
            continue
        settings = _settings_class(target)
        required = {field.upper() for field, info in settings.model_fields.items() if info.is_required()}
        missing = sorted(required - set(env))
        assert not missing, f"compose service {name} lacks required settings {missing}"
