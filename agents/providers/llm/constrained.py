"""The JSON Schema a local model's tool call is written under once it has decided to call one.

A small model left to itself writes a call's arguments in whatever shape comes to it: "6:00" for a time
the tool only takes as "18:00", "555 123 4567" for a ten-digit number, a party of 30 for a table of at most
12 (tests/perf/tool_args_eval.py). llama.cpp turns a JSON Schema into a grammar and samples only tokens
that keep the output inside it, so under `call_schema(tools)` the call names an offered tool and every value
it writes has the type, pattern, range or one of the choices the tool declares.

Which values a call holds is still the model's choice: a required argument may be left out (the schema
keeps the properties but drops `required`), because a value the caller never gave must be asked for, not
made up (agents/tools/spec.py lacking_argument); a grammar that forced it would make the model invent one.
A string's `pattern` is left to agents/tools/fitting.py as well: held to "^[0-9]{10}$", the model copied
"415 555 0199" as "4155501999"; written its own way and fitted afterwards, the digits stay the caller's.

Off by default (`llm.constrained_calls`): on the 0.5B model it turned values the engine would have asked
about into valid wrong ones (the time "8:00" for a table became the first choice that fits, "18:00").
"""

import copy

from agents.providers.llm.base import ToolSpec


def call_schema(tools: list[ToolSpec]) -> dict:
    """`{"name": <tool>, "arguments": {...}}` for exactly one of `tools`, its arguments within that tool's schema."""
    variants = [
        {
            "type": "object",
            "properties": {"name": {"const": tool.name}, "arguments": _arguments(tool.parameters)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for tool in tools
    ]
    return variants[0] if len(variants) == 1 else {"anyOf": variants}


def _arguments(parameters: dict | None) -> dict:
    """The tool's parameter schema with its top-level `required` dropped and no properties beyond its own."""
    schema = copy.deepcopy(parameters) if isinstance(parameters, dict) else {}
    schema.setdefault("type", "object")
    schema.setdefault("properties", {})
    schema.pop("required", None)
    schema.setdefault("additionalProperties", False)
    if isinstance(schema["properties"], dict):
        schema["properties"] = {name: _unpatterned(prop) for name, prop in schema["properties"].items()}
    return schema


def _unpatterned(prop):
    if isinstance(prop, dict) and "pattern" in prop:
        prop = {k: v for k, v in prop.items() if k != "pattern"}
    return prop
