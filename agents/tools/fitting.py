"""A model's tool arguments put into the shape the tool declares, where only the shape is off.

Small models copy what the caller said: "415 555 0199" for a ten-digit `^[0-9]{10}$` phone number,
"Internet" for the choice "internet", "4" or "four" for an integer party size, 4321 as a number for a
string field. Each is the right value written another way, and the engine would refuse to run the call
and ask the caller for something they just said (tests/perf/tool_args_eval.py). `fit_arguments` rewrites
such values when exactly one reading fits the schema; anything it cannot read with certainty stays as the
model wrote it, for validation to refuse ("6:00" is not turned into "18:00": that is a guess, not a shape).
"""

import re

from agents.numbers import numbers_in

_TRUE = {"yes", "true", "y", "yeah", "yep", "1"}
_FALSE = {"no", "false", "n", "nope", "0"}


def fit_arguments(schema: dict | None, arguments: dict) -> dict:
    """`arguments` with each top-level value fitted to its property in `schema` (a new dict; unknown keys kept)."""
    properties = (schema or {}).get("properties") or {}
    if not isinstance(arguments, dict) or not isinstance(properties, dict):
        return arguments
    return {name: _fit(properties.get(name), value) for name, value in arguments.items()}


def _fit(prop, value):
    if not isinstance(prop, dict):
        return value
    kinds = prop.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if isinstance(prop.get("enum"), list):
        return _choice(prop["enum"], value)
    if "integer" in kinds or "number" in kinds:
        return _number(value, integer="number" not in kinds)
    if "boolean" in kinds and isinstance(value, str):
        word = value.strip().lower()
        return True if word in _TRUE else False if word in _FALSE else value
    if "string" in kinds:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and isinstance(prop.get("pattern"), str):
            return _patterned(prop["pattern"], value)
    return value


def _choice(choices: list, value):
    """The one choice `value` names, ignoring case, spaces, hyphens and underscores."""
    if value in choices or not isinstance(value, (str, int, float)):
        return value
    key = _key(value)
    named = [c for c in choices if _key(c) == key]
    return named[0] if len(named) == 1 else value


def _key(value) -> str:
    return re.sub(r"[\s_-]+", "", str(value)).lower()


def _number(value, *, integer: bool):
    if not isinstance(value, str):
        return value
    text = value.strip().replace(",", "")
    try:
        return int(text) if integer else float(text) if "." in text else int(text)
    except ValueError:
        pass
    found = numbers_in(value)
    if len(found) == 1 and re.fullmatch(r"[\s\w-]*", value):  # "four", "twenty two": one number and nothing else
        return int(found[0])
    return value


def _patterned(pattern: str, value: str) -> str:
    """`value` if it matches; else its digits alone, or it without spaces, if exactly that matches."""
    try:
        compiled = re.compile(pattern)
    except re.error:
        return value
    if compiled.search(value):
        return value
    for candidate in (re.sub(r"[\s().+-]", "", value) if re.fullmatch(r"[\d\s().+-]+", value) else None,
                      re.sub(r"\s+", "", value)):
        if candidate and compiled.search(candidate):
            return candidate
    return value
