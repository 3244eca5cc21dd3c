"""Tool definitions as sessions declare them: the seed's short form or full JSON Schema, normalised to JSON Schema."""

import re
from dataclasses import dataclass

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from agents.errors import InvalidRequest
from agents.providers.llm.base import ToolSpec

_JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


@dataclass(frozen=True, slots=True)
class ToolDefinition:
    """A declared tool: POSTed to `url` (a webhook) if it has one, else run by the installed handler of its name."""

    name: str
    description: str
    parameters: dict  # JSON Schema, type object
    url: str | None = None  # http(s) webhook that receives the arguments as JSON
    timeout_s: float | None = None  # None: the gateway's sessions.tool_timeout_s
    cancel_on_interrupt: bool = False  # barge-in cancels the running call (default: it finishes, result kept)

    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)

    def to_wire(self) -> dict:
        wire = {"name": self.name, "description": self.description, "parameters": self.parameters}
        if self.url is not None:
            wire["url"] = self.url
        if self.timeout_s is not None:
            wire["timeout_s"] = self.timeout_s
        if self.cancel_on_interrupt:
            wire["cancel_on_interrupt"] = True
        return wire


def normalise_parameters(parameters: dict | None, where: str) -> dict:
    """JSON Schema for `parameters`: full schemas pass through (checked), the short form is converted.

    Short form (the seed's): {"order_id": {"type": "string", "required": true}}.
    """
    if parameters is None:
        return {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise InvalidRequest(f"{where}.parameters must be an object", param="tools")
    if parameters.get("type") == "object" and isinstance(parameters.get("properties", {}), dict):
        schema = parameters
    else:
        properties, required = {}, []
        for name, prop in parameters.items():
            if not isinstance(prop, dict) or prop.get("type") not in _JSON_TYPES:
                raise InvalidRequest(
                    f"{where}.parameters.{name} must be an object with a JSON type "
                    f"({', '.join(sorted(_JSON_TYPES))})", param="tools",
                )
            prop = dict(prop)
            is_required = prop.pop("required", False)
            if not isinstance(is_required, bool):
                raise InvalidRequest(f"{where}.parameters.{name}.required must be true or false",
                                     param="tools")
            if is_required:
                required.append(name)
            properties[name] = prop
        schema = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidRequest(f"{where}.parameters is not a valid JSON Schema: {exc.message}",
                             param="tools") from None
    return schema


def validate_arguments(definition: ToolDefinition, arguments: dict) -> str | None:
    """None if `arguments` fit the tool's schema, else a short message the LLM can act on."""
    errors = sorted(Draft202012Validator(definition.parameters).iter_errors(arguments), key=lambda e: list(e.path))
    if not errors:
        return None
    return "; ".join(
        (f"{'.'.join(str(p) for p in e.path)}: " if e.path else "") + e.message for e in errors[:3]
    )


# Values a small model writes when it has no real one: '<order_id>', "unknown", "N/A", "{order_id}".
_PLACEHOLDERS = {"none", "null", "unknown", "n/a", "na", "?", "...", "xxx", "tbd", "undefined", "missing"}
_TEMPLATE = re.compile(r"^[<{\[].*[>}\]]$")


def lacking_argument(definition: ToolDefinition, arguments: dict) -> tuple[str, str | None] | None:
    """The first required argument that is absent, empty, a placeholder or invalid, else None.

    Returns (name, problem): problem is None when the value is absent (JSON Schema alone accepts ""
    and "<order_id>" for a string, so those count as absent), else validate_arguments' message.
    """
    required = definition.parameters.get("required", [])
    for name in required:
        value = arguments.get(name)
        if value is None or isinstance(value, str) and _is_placeholder(value, name):
            return name, None
    errors = Draft202012Validator(definition.parameters).iter_errors(arguments)
    for error in sorted(errors, key=lambda e: list(e.path)):
        if error.path and error.path[0] in required:
            return str(error.path[0]), validate_arguments(definition, arguments)
    return None


def _is_placeholder(value: str, name: str) -> bool:
    value = value.strip().lower()
    return (not value or value in _PLACEHOLDERS or bool(_TEMPLATE.match(value))
            or value in (name.lower(), name.lower().replace("_", " ")))


def value_phrase(definition: ToolDefinition, name: str) -> str:
    """How to ask a caller for a parameter, from its description: "the order number, digits only" -> "the
    order number"; without a description, its name ("order_id" -> "the order ID")."""
    prop = definition.parameters.get("properties", {}).get(name)
    described = prop.get("description") if isinstance(prop, dict) else None
    phrase = re.split(r"[,;:(\[]| - | e\.g\.| such as ", described or "")[0].strip().rstrip(".")
    if not phrase:
        phrase = name.replace("_", " ")
    first = phrase.split()[0]
    if first[:1].isupper() and not first.isupper():
        phrase = phrase[0].lower() + phrase[1:]  # "Order number" -> "order number"; "E.164 number" stays
    if phrase.split()[0].lower() not in ("the", "a", "an", "your", "my", "which", "what"):
        phrase = "the " + phrase
    return re.sub(r"\bid\b", "ID", phrase)
