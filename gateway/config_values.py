"""One setting's value, from the TOML file or a PARLEY_* string, checked and converted to its field's type."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it."""


def _base_type(tp) -> tuple[type, bool]:
    """The concrete type of an annotation and whether None is allowed (`int | None` -> (int, True))."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0], True
    return tp, False


def coerce(value, f: dataclasses.Field, hints: dict, where: str):
    """Check and convert one value (from TOML or an env string) for field `f`; ConfigError on failure."""
    tp, nullable = _base_type(hints[f.name])
    meta = f.metadata
    from_env = isinstance(value, str) and tp is not str

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"invalid setting {where}: expected {expected}, got {value!r}")

    if value is None or (from_env and value == "" and nullable):
        if nullable:
            return None
        raise bad(tp.__name__)
    if tp is bool:
        if isinstance(value, bool):
            result = value
        elif isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            result = value.lower() in ("1", "true", "yes", "on")
        else:
            raise bad("true or false")
    elif tp is int:
        try:
            result = int(value) if isinstance(value, str) else value
        except ValueError:
            raise bad("an integer") from None
        if isinstance(result, bool) or not isinstance(result, int):
            raise bad("an integer")
    elif tp is float:
        try:
            result = float(value) if isinstance(value, str) else value
        except ValueError:
            raise bad("a number") from None
        if isinstance(result, bool) or not isinstance(result, (int, float)):
            raise bad("a number")
        result = float(result)
    elif tp is Path:
        if not isinstance(value, str) or not value:
            raise bad("a path")
        result = Path(value).expanduser()
    else:
        if not isinstance(value, str):
            raise bad("a string")
        result = value
    if "choices" in meta and result not in meta["choices"]:
        raise bad("one of " + ", ".join(meta["choices"]))
    if "min" in meta and result < meta["min"] or "max" in meta and result > meta["max"]:
        low, high = meta.get("min"), meta.get("max")
        raise bad(f"a value from {low} to {high}" if high is not None else f"a value >= {low}")
    return result
