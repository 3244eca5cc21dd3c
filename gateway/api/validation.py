"""Checks for POST /v1/conversations/create: every field, default and error as the seed and SPEC §3 give them."""

import re
from dataclasses import dataclass

from agents.errors import InvalidRequest
from agents.providers.tts.base import VoiceInfo
from agents.tools.registry import ToolRegistry
from agents.tools.spec import ToolDefinition, normalise_parameters

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELDS = {"voice_id", "system_prompt", "language", "tools", "context_window", "max_turns",
           "persona_id", "greeting", "metadata"}
MAX_PROMPT_CHARS = 20_000


@dataclass(frozen=True)
class CreateRequest:
    voice_id: str
    system_prompt: str
    language: str
    tools: tuple[ToolDefinition, ...]
    context_window: int
    max_turns: int | None
    greeting: str | None
    metadata: dict | None
    persona_id: str | None


def _integer(body: dict, name: str, default, minimum: int, nullable: bool = False):
    value = body.get(name, default)
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        expected = f"an integer >= {minimum}" + (" or null" if nullable else "")
        raise InvalidRequest(f"{name} must be {expected}, got {value!r}", param=name)
    return value


def _text(body: dict, name: str, required: bool, max_chars: int = MAX_PROMPT_CHARS) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"{name} is required", param=name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{name} must be a non-empty string", param=name)
    if len(value) > max_chars:
        raise InvalidRequest(f"{name} is longer than {max_chars} characters", param=name)
    return value


def parse_tools(value, registry: ToolRegistry) -> tuple[ToolDefinition, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest("tools must be an array of {name, description, parameters}", param="tools")
    tools: list[ToolDefinition] = []
    for i, item in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{where} must be an object", param="tools")
        unknown = set(item) - {"name", "description", "parameters"}
        if unknown:
            raise InvalidRequest(f"{where} has unknown field(s): {', '.join(sorted(unknown))}", param="tools")
        name = item.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise InvalidRequest(f"{where}.name must be 1-64 letters, digits, _ or -", param="tools")
        if any(t.name == name for t in tools):
            raise InvalidRequest(f"tool {name!r} is declared twice", param="tools")
        if registry.get(name) is None:
            installed = ", ".join(registry.names()) or "none"
            raise InvalidRequest(f"no handler is installed for tool {name!r} (installed: {installed})", param="tools")
        handler = registry.describe(name)  # a declaration that only names the tool takes the handler's own
        description = item.get("description", handler["description"])
        if not isinstance(description, str):
            raise InvalidRequest(f"{where}.description must be a string", param="tools")
        parameters = item["parameters"] if "parameters" in item else handler["parameters"]
        tools.append(ToolDefinition(name, description, normalise_parameters(parameters, where)))
    return tuple(tools)


def parse_create(body, voices: dict[str, VoiceInfo], languages: frozenset[str],
                 registry: ToolRegistry) -> CreateRequest:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    unknown = set(body) - _FIELDS
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidRequest(f"unknown field {name!r}", param=name)
    voice_id = body.get("voice_id")
    if voice_id is None:
        raise InvalidRequest("voice_id is required", param="voice_id")
    if not isinstance(voice_id, str) or voice_id not in voices:
        raise InvalidRequest(f"unknown voice_id {voice_id!r} (see GET /v1/voices)", param="voice_id")
    system_prompt = _text(body, "system_prompt", required=True)
    language = body.get("language", "en")
    if not isinstance(language, str) or not _LANGUAGE.match(language):
        raise InvalidRequest(f"language must be an ISO 639-1 code such as 'en', got {language!r}", param="language")
    if language not in languages:
        installed = ", ".join(sorted(languages))
        raise InvalidRequest(f"language {language!r} is not installed (installed: {installed})", param="language")
    if language not in voices[voice_id].languages:
        raise InvalidRequest(f"voice {voice_id!r} does not speak {language!r}", param="voice_id")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be a JSON object", param="metadata")
    persona_id = body.get("persona_id")
    if persona_id is not None and not isinstance(persona_id, str):
        raise InvalidRequest("persona_id must be a string", param="persona_id")
    return CreateRequest(
        voice_id=voice_id,
        system_prompt=system_prompt,
        language=language,
        tools=parse_tools(body.get("tools"), registry),
        context_window=_integer(body, "context_window", 50, 1),
        max_turns=_integer(body, "max_turns", None, 1, nullable=True),
        greeting=_text(body, "greeting", required=False, max_chars=2000),
        metadata=metadata,
        persona_id=persona_id,
    )
