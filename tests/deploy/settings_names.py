"""Which environment variable names a process reads: the settings classes' fields (nested
ones through ``__``), so that a deployment file naming a setting that does not exist (a typo,
a renamed field) fails a test instead of being silently ignored (``extra="ignore"``)."""

from __future__ import annotations

import importlib
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings

from socialseed.stack import SANDBOX, SERVICES, ServiceSpec

# Read by ``socialseed.run`` (not a settings field): worker processes per service.
RUN_OPTIONS = ("WORKERS",)


def settings_class(spec: ServiceSpec) -> type[BaseSettings]:
    package = spec.app.split(".")[0]
    module = importlib.import_module(f"{package}.settings")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and issubclass(value, BaseSettings)
            and value.model_config.get("env_prefix") == spec.env_prefix
        ):
            return value
    raise AssertionError(f"no settings class with prefix {spec.env_prefix} in {module.__name__}")


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _is_mapping(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is dict:
        return True
    return any(_is_mapping(arg) for arg in typing.get_args(annotation))


def names_setting(cls: type[BaseModel], name: str, delimiter: str | None) -> bool:
    """Whether ``name`` (without the prefix, any case) is one of ``cls``'s settings."""
    parts = name.lower().split(delimiter) if delimiter else [name.lower()]
    model: type[BaseModel] | None = cls
    for i, part in enumerate(parts):
        if model is None or part not in model.model_fields:
            return False
        annotation = model.model_fields[part].annotation
        rest = parts[i + 1 :]
        if not rest:
            return True
        if _is_mapping(annotation):
            return len(rest) == 1  # a key of the mapping (ACCOUNTS_INTERNAL_TOKENS__PUBLISHER)
        model = _model_of(annotation)
    return True


def spec_for(variable: str) -> ServiceSpec | None:
    for spec in (*SERVICES, SANDBOX):
        if variable.startswith(spec.env_prefix):
            return spec
    return None


def unknown_settings(variables: list[str]) -> list[str]:
    """The variables among ``variables`` that carry a service's prefix but name nothing that
    service reads."""
    bad = []
    for variable in variables:
        spec = spec_for(variable)
        if spec is None:
            continue
        name = variable[len(spec.env_prefix) :]
        if name in RUN_OPTIONS:
            continue
        cls = settings_class(spec)
        if not names_setting(cls, name, cls.model_config.get("env_nested_delimiter")):
            bad.append(variable)
    return bad
