"""Checks for POST /v1/conversations/create: every field, default and error as the seed and SPEC §3 give them."""

import math
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from agents.errors import InvalidRequest
from agents.providers.tts.base import VoiceInfo
from agents.session import LLMSettings
from agents.tools.builtins import is_transfer_target
from agents.tools.registry import ToolRegistry
from agents.tools.spec import ToolDefinition, normalise_parameters

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELDS = {"voice_id", "system_prompt", "language", "tools", "context_window", "max_turns",
           "persona_id", "greeting", "metadata", "transfer_targets", "vad_threshold", "llm", "recording",
           "vocabulary", "asr", "noise_suppression"}
_ASR_FIELDS = {"model"}
_LLM_FIELDS = {"model", "temperature", "max_tokens"}
MAX_LLM_TOKENS = 4096
_TOOL_FIELDS = {"name", "description", "parameters", "url", "timeout_s", "cancel_on_interrupt"}
MAX_PROMPT_CHARS = 20_000
MAX_URL_CHARS = 2048
MAX_TOOL_TIMEOUT_S = 600.0
MAX_TRANSFER_TARGETS = 50
MAX_VOCABULARY = 100  # terms (agents/providers/asr/hints.py primes the recogniser with them)
MAX_VOCABULARY_CHARS = 64  # a term: a word or a short phrase


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
    transfer_targets: tuple[str, ...] = ()
    vad_threshold: float | None = None
    llm: LLMSettings = LLMSettings()
    recording: bool = False
    vocabulary: tuple[str, ...] = ()
    asr_model: str | None = None  # a loaded ASR model other than the language's default (asr.model)
    noise_suppression: bool = False  # DTLN on the caller's audio (media/denoise.py)

    def settings(self) -> dict:
        """The session's settings as stored with it (SessionRecord.settings, JSON-ready)."""
        return {
            "voice_id": self.voice_id,
            "system_prompt": self.system_prompt,
            "language": self.language,
            "tools": [tool.to_wire() for tool in self.tools],
            "context_window": self.context_window,
            "max_turns": self.max_turns,
            "greeting": self.greeting,
            "transfer_targets": list(self.transfer_targets),
            "vad_threshold": self.vad_threshold,
            "llm": {name: getattr(self.llm, name) for name in sorted(_LLM_FIELDS) if getattr(self.llm, name) is not None},
            "recording": self.recording,
            "vocabulary": list(self.vocabulary),
            "asr": {"model": self.asr_model} if self.asr_model else {},
            "noise_suppression": self.noise_suppression,
        }


def _number(body: dict, name: str, low: float, high: float, param: str | None = None):
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        where = param or name
        raise InvalidRequest(f"{where} must be a number from {low:g} to {high:g}, got {value!r}",
                             param=where.split(".")[0])
    return float(value)


def parse_llm(value, llm_models: frozenset[str] | None) -> LLMSettings:
    """`llm`: {model, temperature, max_tokens}, each optional; `llm_models` None accepts any model name."""
    if value is None:
        return LLMSettings()
    if not isinstance(value, dict):
        raise InvalidRequest("llm must be an object {model, temperature, max_tokens}", param="llm")
    unknown = set(value) - _LLM_FIELDS
    if unknown:
        raise InvalidRequest(f"llm has unknown field(s): {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(sorted(_LLM_FIELDS))})", param="llm")
    model = value.get("model")
    if model is not None:
        if not isinstance(model, str) or not model.strip() or len(model) > 200:
            raise InvalidRequest("llm.model must be a non-empty model name", param="llm")
        if llm_models is not None and model not in llm_models:
            offered = ", ".join(sorted(llm_models)) or "none"
            raise InvalidRequest(f"llm.model {model!r} is not available (available: {offered})", param="llm")
    max_tokens = value.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)
                                   or not 1 <= max_tokens <= MAX_LLM_TOKENS):
        raise InvalidRequest(f"llm.max_tokens must be an integer from 1 to {MAX_LLM_TOKENS}, got {max_tokens!r}",
                             param="llm")
    return LLMSettings(model=model, temperature=_number(value, "temperature", 0.0, 2.0, "llm.temperature"),
                       max_tokens=max_tokens)


def parse_asr(value, language: str, asr_models: dict[str, list[str]] | None) -> str | None:
    """`asr`: {model}, the name of a loaded recogniser that hears `language` (`asr_models`: language -> names;
    None accepts any name). Returns the model's name, or None for the language's default."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("asr must be an object {model}", param="asr")
    unknown = set(value) - _ASR_FIELDS
    if unknown:
        raise InvalidRequest(f"asr has unknown field(s): {', '.join(sorted(unknown))} (known: model)", param="asr")
    model = value.get("model")
    if model is None:
        return None
    if not isinstance(model, str) or not model.strip() or len(model) > 200:
        raise InvalidRequest("asr.model must be a non-empty model name", param="asr")
    offered = (asr_models or {}).get(language, [])
    if asr_models is not None and model not in offered:
        raise InvalidRequest(f"asr.model {model!r} does not hear {language!r} here (available for {language!r}: "
                             f"{', '.join(offered) or 'none'})", param="asr")
    return model


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


def _webhook_url(value, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_URL_CHARS:
        raise InvalidRequest(f"{where}.url must be an http(s) URL of at most {MAX_URL_CHARS} characters",
                             param="tools")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise InvalidRequest(f"{where}.url must be an http:// or https:// URL with a host, got {value!r}",
                             param="tools")
    return value


def _tool_options(item: dict, where: str) -> tuple[float | None, bool]:
    timeout_s = item.get("timeout_s")
    if timeout_s is not None and (isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float))
                                  or not math.isfinite(timeout_s) or not 0 < timeout_s <= MAX_TOOL_TIMEOUT_S):
        raise InvalidRequest(f"{where}.timeout_s must be a number of seconds above 0 and at most "
                             f"{MAX_TOOL_TIMEOUT_S:g}, got {timeout_s!r}", param="tools")
    cancel = item.get("cancel_on_interrupt", False)
    if not isinstance(cancel, bool):
        raise InvalidRequest(f"{where}.cancel_on_interrupt must be true or false", param="tools")
    return (float(timeout_s) if timeout_s is not None else None), cancel


def parse_tools(value, registry: ToolRegistry) -> tuple[ToolDefinition, ...]:
    """Each tool names an installed handler (a plugin or a built-in) or carries a webhook `url`."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest("tools must be an array of {name, description, parameters}", param="tools")
    tools: list[ToolDefinition] = []
    for i, item in enumerate(value):
        where = f"tools[{i}]"
        if not isinstance(item, dict):
            raise InvalidRequest(f"{where} must be an object", param="tools")
        unknown = set(item) - _TOOL_FIELDS
        if unknown:
            raise InvalidRequest(f"{where} has unknown field(s): {', '.join(sorted(unknown))}", param="tools")
        name = item.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise InvalidRequest(f"{where}.name must be 1-64 letters, digits, _ or -", param="tools")
        if any(t.name == name for t in tools):
            raise InvalidRequest(f"tool {name!r} is declared twice", param="tools")
        timeout_s, cancel = _tool_options(item, where)
        if "url" in item:
            url = _webhook_url(item["url"], where)
            if registry.is_builtin(name):
                raise InvalidRequest(f"{where}: {name!r} is a built-in tool and cannot be a webhook", param="tools")
            description = item.get("description")
            if not isinstance(description, str) or not description.strip():
                raise InvalidRequest(f"{where}.description is required for a webhook tool: it tells the model "
                                     "when to call it", param="tools")
            parameters = item.get("parameters")
        else:
            url = None
            if registry.get(name) is None:
                installed = ", ".join(registry.names()) or "none"
                raise InvalidRequest(f"no handler is installed for tool {name!r} (installed: {installed}); "
                                     "give a url to call a webhook", param="tools")
            handler = registry.describe(name)  # a declaration that only names the tool takes the handler's own
            description = item.get("description", handler["description"])
            if not isinstance(description, str):
                raise InvalidRequest(f"{where}.description must be a string", param="tools")
            parameters = item["parameters"] if "parameters" in item else handler["parameters"]
        tools.append(ToolDefinition(name, description, normalise_parameters(parameters, where), url=url,
                                    timeout_s=timeout_s, cancel_on_interrupt=cancel))
    return tuple(tools)


def parse_transfer_targets(value) -> tuple[str, ...]:
    """Where transfer_call may send the caller: E.164 numbers or sip: URIs (SPEC §7)."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_TRANSFER_TARGETS:
        raise InvalidRequest(f"transfer_targets must be an array of at most {MAX_TRANSFER_TARGETS} strings "
                             "(E.164 numbers such as +15550100 or sip: URIs)", param="transfer_targets")
    for i, target in enumerate(value):
        if not isinstance(target, str) or len(target) > 256 or not is_transfer_target(target):
            raise InvalidRequest(f"transfer_targets[{i}] must be an E.164 number such as +15550100 or a sip: URI, "
                                 f"got {target!r}", param="transfer_targets")
    return tuple(dict.fromkeys(value))


def parse_vocabulary(value) -> tuple[str, ...]:
    """Words and short phrases callers are likely to say (names, products, places), which the recogniser is
    primed with: at most MAX_VOCABULARY non-empty strings of at most MAX_VOCABULARY_CHARS; repeats dropped."""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_VOCABULARY:
        raise InvalidRequest(f"vocabulary must be an array of at most {MAX_VOCABULARY} strings (words or short "
                             "phrases callers may say)", param="vocabulary")
    terms: list[str] = []
    for i, term in enumerate(value):
        if not isinstance(term, str) or not term.strip() or len(term) > MAX_VOCABULARY_CHARS:
            raise InvalidRequest(f"vocabulary[{i}] must be a non-empty string of at most {MAX_VOCABULARY_CHARS} "
                                 f"characters, got {term!r}", param="vocabulary")
        terms.append(" ".join(term.split()))
    return tuple(dict.fromkeys(terms))


def _with_transfer_targets(tools: tuple[ToolDefinition, ...], targets: tuple[str, ...]) -> tuple[ToolDefinition, ...]:
    """transfer_call needs somewhere to go; the model is told the targets in the argument's description
    (not as an enum: "+1 555 0100" should still reach +15550100, the tool compares digits)."""
    out = []
    for t in tools:
        if t.name == "transfer_call" and t.url is None:
            if not targets:
                raise InvalidRequest("transfer_call needs transfer_targets: the numbers or sip: URIs it may dial",
                                     param="transfer_targets")
            target = t.parameters.get("properties", {}).get("target")
            if isinstance(target, dict) and target.get("type") == "string":
                allowed = f"allowed: {', '.join(targets)}"
                described = f"{target['description']}; {allowed}" if target.get("description") else allowed
                properties = {**t.parameters["properties"], "target": {**target, "description": described}}
                t = ToolDefinition(t.name, t.description, {**t.parameters, "properties": properties},
                                   url=t.url, timeout_s=t.timeout_s, cancel_on_interrupt=t.cancel_on_interrupt)
        out.append(t)
    return tuple(out)


def parse_create(body, voices: dict[str, VoiceInfo], languages: frozenset[str],
                 registry: ToolRegistry, llm_models: frozenset[str] | None = None,
                 asr_models: dict[str, list[str]] | None = None) -> CreateRequest:
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
        fitting = ", ".join(v.voice_id for v in voices.values() if language in v.languages) or "none"
        spoken = ", ".join(voices[voice_id].languages) or "no language"
        raise InvalidRequest(f"voice {voice_id!r} speaks {spoken}, not {language!r}; voices for {language!r}: "
                             f"{fitting}", param="voice_id")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidRequest("metadata must be a JSON object", param="metadata")
    persona_id = body.get("persona_id")
    if persona_id is not None and not isinstance(persona_id, str):
        raise InvalidRequest("persona_id must be a string", param="persona_id")
    transfer_targets = parse_transfer_targets(body.get("transfer_targets"))
    recording = body.get("recording", False)
    if not isinstance(recording, bool):
        raise InvalidRequest("recording must be true or false", param="recording")
    noise_suppression = body.get("noise_suppression", False)
    if not isinstance(noise_suppression, bool):
        raise InvalidRequest("noise_suppression must be true or false", param="noise_suppression")
    return CreateRequest(
        voice_id=voice_id,
        system_prompt=system_prompt,
        language=language,
        tools=_with_transfer_targets(parse_tools(body.get("tools"), registry), transfer_targets),
        context_window=_integer(body, "context_window", 50, 1),
        max_turns=_integer(body, "max_turns", None, 1, nullable=True),
        greeting=_text(body, "greeting", required=False, max_chars=2000),
        metadata=metadata,
        persona_id=persona_id,
        transfer_targets=transfer_targets,
        vad_threshold=_number(body, "vad_threshold", 0.0, 1.0),
        llm=parse_llm(body.get("llm"), llm_models),
        recording=recording,
        vocabulary=parse_vocabulary(body.get("vocabulary")),
        asr_model=parse_asr(body.get("asr"), language, asr_models),
        noise_suppression=noise_suppression,
    )
