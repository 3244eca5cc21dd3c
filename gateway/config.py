"""Typed configuration: defaults, then a TOML file, then PARLEY_* environment variables, validated at start-up.

Each section of the TOML file is a frozen dataclass below; each field documents
its type, default and unit, and is overridden by `PARLEY_<SECTION>_<KEY>` (the
top-level settings by `PARLEY_<KEY>`, e.g. PARLEY_DATA_DIR). A bad value stops
start-up with a ConfigError that names the setting, its variable and the value
(gateway/config_values.py checks and converts each value).
Nothing outside this module reads the environment for settings.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from gateway.sip_config import SIPConfig
from gateway.twilio.config import TwilioConfig

from agents.errors import InvalidRequest
from gateway.config_values import ConfigError, coerce
from gateway.numbers import parse_number


def _setting(default, doc: str, **rules):
    """A dataclass field with its documentation and validation rules (choices, min, max)."""
    return field(default=default, metadata={"doc": doc, **rules})


@dataclass(frozen=True)
class ServerConfig:
    """[server]: where the HTTP/WebSocket server listens."""

    host: str = _setting("127.0.0.1", "interface to bind (PARLEY_SERVER_HOST); 0.0.0.0 for all")
    port: int = _setting(8080, "TCP port (PARLEY_SERVER_PORT); 0 picks a free one", min=0, max=65535)
    shutdown_timeout_s: float = _setting(5.0, "seconds live connections get to finish on SIGTERM", min=0)
    drain_timeout_s: float = _setting(
        0.0, "on SIGTERM, seconds to wait for live calls to end first, taking no new ones (0: no drain)", min=0)
    event_loop: str = _setting("uvloop", "uvloop (libuv's loop: about a tenth less CPU per held call) or asyncio "
                               "(Python's own)", choices=("uvloop", "asyncio"))


@dataclass(frozen=True)
class LogConfig:
    """[log]: structured logs on stderr."""

    format: str = _setting(
        "auto", "console (human), json, or auto: console on a terminal, json otherwise",
        choices=("auto", "console", "json"),
    )
    level: str = _setting("info", "lowest level logged", choices=("debug", "info", "warning", "error"))
    mask_numbers: bool = _setting(True, "callers' numbers in log lines are masked (+1555***1111); false: logged whole")


@dataclass(frozen=True)
class VADConfig:
    """[vad]: how the engine hears speech (per-stream `vad_threshold` overrides the threshold)."""

    backend: str = _setting("webrtc", "webrtc (2-4 us/frame) or silero (neural, ~150 us/frame)",
                            choices=("webrtc", "silero"))
    threshold: float = _setting(0.5, "0.0-1.0; higher needs louder speech", min=0.0, max=1.0)
    min_speech_ms: int = _setting(120, "ms of speech before a turn starts", min=0, max=5000)
    hangover_ms: int = _setting(500, "ms of silence that ends a turn when its words give no clue", min=0, max=10000)
    endpoint_min_ms: int = _setting(
        250, "shortest end of turn, after a finished question (the pause is transcribed from half of it); "
        "0 = always hangover_ms",
        min=0, max=10000)
    endpoint_max_ms: int = _setting(
        1500, "the longest pause inside a turn, after digits, 'and', 'um' or a trailing comma", min=0, max=10000)
    transcribe_after_ms: int = _setting(
        60, "ms of silence after which a pause is transcribed, to judge the end of turn and begin the reply",
        min=20, max=10000)


# Offered by default: the languages measured to work end to end (README, "Languages").
DEFAULT_LANGUAGES = "en,de,es,fr,it,nl,pt"
_ISO_639_1 = re.compile(r"[a-z]{2}")


@dataclass(frozen=True)
class ASRConfig:
    """[asr]: speech recognition."""

    provider: str = _setting("whisper", "whisper (faster-whisper, default tiny.en), vosk, or remote (a server's "
                             "OpenAI-compatible /audio/transcriptions, e.g. `parley models serve`)",
                             choices=("whisper", "vosk", "remote"))
    base_url: str | None = _setting(None, "remote: the server's base URL, e.g. http://models:8090/v1")
    api_key: str | None = _setting(None, "remote: the server's API key, if it needs one")
    remote_model: str = _setting("whisper-1", "remote: the model name sent (parley models serve routes by language "
                                 "whatever the name, or takes one of its model names: tiny.en, base)")
    model_path: str | None = _setting(None, "model folder; default: the packaged Whisper tiny.en (vosk needs one)")
    language: str = _setting("en", "the language of a vosk model (ISO 639-1)")
    threads: int = _setting(2, "CPU threads per recognition", min=1, max=64)
    window_s: float = _setting(15.0, "Whisper: the shortest encoder window in seconds; a clip gets its length + 2 s, "
                               "at least this (30 = Whisper's fixed window: ~3x slower finals)", min=1.0, max=30.0)
    # Decoding aids for the main model, chosen on phone-band callers (tests/perf/asr_phone_bench.py, README).
    beam_size: int = _setting(1, "Whisper: beam width of a final (PARLEY_ASR_BEAM_SIZE); 1 = greedy, the fastest",
                              min=1, max=10)
    temperature_fallback: bool = _setting(
        True, "Whisper: retry a final that looks like a loop or gibberish at hotter temperatures "
        "(PARLEY_ASR_TEMPERATURE_FALLBACK)")
    vocabulary_prompt: bool = _setting(
        True, "Whisper: prime each utterance with the session's vocabulary and its tools' words "
        "(PARLEY_ASR_VOCABULARY_PROMPT)")
    prompt: str | None = _setting(
        None, "Whisper: fixed text every utterance is primed with, before the vocabulary (PARLEY_ASR_PROMPT)")
    gain_dbfs: float | None = _setting(
        None, "Whisper: bring each utterance's speech to this RMS level in dBFS before decoding "
        "(PARLEY_ASR_GAIN_DBFS); unset = as heard", min=-40.0, max=0.0)
    band_limit: bool = _setting(
        False, "Whisper: cut 8 kHz (phone) audio above 3.8 kHz after upsampling (PARLEY_ASR_BAND_LIMIT)")
    multilingual_model: str = _setting(
        "base", "Whisper for the languages the main model lacks: base (packaged), a CTranslate2 folder, or none")
    languages: str = _setting(
        DEFAULT_LANGUAGES, "comma-separated ISO 639-1 codes sessions may use, or all (every language the ASR "
        "hears and a voice speaks)")

    def __post_init__(self) -> None:
        if self.provider == "remote" and not self.base_url:
            raise ConfigError("asr.base_url (PARLEY_ASR_BASE_URL) is needed for asr.provider = \"remote\"")
        if self.wanted_languages is not None and not all(_ISO_639_1.fullmatch(c) for c in self.wanted_languages):
            raise ConfigError(f"invalid setting asr.languages (PARLEY_ASR_LANGUAGES): expected ISO 639-1 codes "
                              f"separated by commas (en,fr,de) or all, got {self.languages!r}")

    def whisper_options(self) -> dict:
        """The decoding aids above as WhisperASR keyword arguments (for the main model)."""
        from agents.providers.asr.whisper import FINAL_TEMPERATURES

        return {"beam_size": self.beam_size, "final_temperatures": FINAL_TEMPERATURES if self.temperature_fallback
                else (0.0,), "use_vocabulary": self.vocabulary_prompt, "prompt": self.prompt,
                "gain_dbfs": self.gain_dbfs, "band_limit": self.band_limit}

    @property
    def wanted_languages(self) -> frozenset[str] | None:
        """The codes of `languages`, or None for all."""
        if self.languages.strip().lower() == "all":
            return None
        return frozenset(c.strip() for c in self.languages.split(","))


@dataclass(frozen=True)
class LLMConfig:
    """[llm]: the language model."""

    provider: str = _setting("llamacpp", "llamacpp (in-process, packaged model) or openai (any OpenAI-compatible server)",
                             choices=("llamacpp", "openai"))
    model_path: str | None = _setting(None, "llamacpp: a GGUF file or a packaged model name; default: the packaged model")
    base_url: str | None = _setting(None, "openai: the server's base URL, e.g. http://127.0.0.1:11434/v1; llamacpp: "
                                    "the packaged model on `parley models serve` there instead of in-process")
    model: str | None = _setting(None, "openai: the model name the server knows")
    api_key: str | None = _setting(None, "openai, or llamacpp with base_url: the API key, if the server needs one")
    temperature: float = _setting(0.2, "sampling temperature", min=0.0, max=2.0)
    max_tokens: int = _setting(160, "longest reply in tokens", min=1, max=4096)
    threads: int = _setting(0, "llamacpp: CPU threads the model runs on; 0 = one per core (fewer when the machine is "
                            "shared: llama.cpp slows badly when its threads wait for a busy core)", min=0, max=256)
    tool_policy: bool = _setting(
        True, "llamacpp: a caller's plain requests (a number for a look-up tool, a person, goodbye) call their tools "
        "without the model, and the model answers in words; false: the model decides every call")
    constrained_calls: bool = _setting(
        False, "llamacpp: a tool call the model begins is written again under a JSON-Schema grammar of the offered "
        "tools (only their names, their arguments' types, choices and ranges); off by default: on the packaged "
        "0.5B model it made no call more right and turned values the caller is asked about into wrong choices")
    refuse_invented_numbers: bool = _setting(
        True, "a reply sentence about what the tools look up (\"order\") with a number (2+ digits) that nothing "
        "in the call holds (prompt, caller, tool results) is not spoken: the model made it up "
        "(PARLEY_LLM_REFUSE_INVENTED_NUMBERS)")


@dataclass(frozen=True)
class TTSConfig:
    """[tts]: speech synthesis."""

    provider: str = _setting("local", "local (Piper, and espeak-ng) or remote (a server's OpenAI-compatible "
                             "/audio/speech, e.g. `parley models serve`)", choices=("local", "remote"))
    piper_voice: str | None = _setting(None, "an extra Piper voice .onnx (its .json beside it); joe is always there")
    espeak: bool = _setting(True, "also offer the light espeak-ng voices for other languages")
    base_url: str | None = _setting(None, "remote: the server's base URL, e.g. http://models:8090/v1")
    api_key: str | None = _setting(None, "remote: the server's API key, if it needs one")
    remote_model: str = _setting("tts-1", "remote: the model name sent")
    remote_voices: str = _setting(
        "", "remote: comma-separated voice names to offer (English), for a server that lists none (OpenAI: alloy,"
        "echo,...); empty: the server's GET /audio/voices")

    def __post_init__(self) -> None:
        if self.provider == "remote" and not self.base_url:
            raise ConfigError("tts.base_url (PARLEY_TTS_BASE_URL) is needed for tts.provider = \"remote\"")


@dataclass(frozen=True)
class SessionsConfig:
    """[sessions]: conversation behaviour and retention."""

    retention_days: int = _setting(30, "days a deleted session stays readable", min=0, max=3650)
    partial_interval_ms: int = _setting(
        2000, "partial user transcripts come at each pause in the caller's speech and at least this often "
        "in long stretches without one; 0 = never", min=0)
    speculative_replies: bool = _setting(
        True, "begin the reply in the caller's pause, before the turn is known to be over; it is heard only if "
        "the turn ends on the words it answered, and runs no tool before")
    tool_timeout_s: float = _setting(10.0, "longest a tool may take", min=0.1, max=600)
    hold_after_ms: int = _setting(700, "a tool slower than this gets the hold line spoken while it runs", min=0)
    hold_line: str = _setting("Let me look that up.", "what the agent says while a slow tool runs")
    idle_timeout_s: float = _setting(300.0, "a live session with no speech, text or reply this long ends; 0 = never",
                                     min=0.0)
    interrupt_min_ms: int = _setting(
        60, "caller sound over the assistant this long pauses its reply (the false-barge-in guard); below "
        "vad.min_speech_ms it pauses before the sound counts as speech and plays on if it stops short", min=0, max=5000)
    backchannel_max_ms: int = _setting(
        700, "caller speech over the assistant longer than this interrupts whatever it says", min=0, max=10000)
    resume_after_backchannel: bool = _setting(
        True, "'mm-hmm', 'okay' or noise over a reply: play on; false: any speech past the guard cuts it")
    echo_suppression_db: float = _setting(
        12.0, "while the assistant talks, caller audio this many dB below its output is taken for echo; 0 = off",
        min=0.0, max=60.0)
    dtmf_pause_ms: int = _setting(1500, "caller key presses end with # or after this many ms without a key",
                                  min=100, max=10000)
    max_turn_s: float = _setting(30.0, "a caller's turn ends after this much speech even without a pause (a caller "
                                 "who never stops, a noisy line); 0 = never", min=0.0, max=600.0)
    stream_token_ttl_s: float = _setting(
        3600.0, "a session's stream token opens its stream this long after the session was made or last active; "
        "then only an API key does", min=1.0)


@dataclass(frozen=True)
class ToolsConfig:
    """[tools]: webhook tools and the built-in call-control tools."""

    webhook_secret: str | None = _setting(
        None, "signs webhook requests (PARLEY_TOOLS_WEBHOOK_SECRET); unset: generated once into data_dir")
    goodbye_line: str = _setting("Thank you for calling. Goodbye.", "what end_call says when the model gave no words")


@dataclass(frozen=True)
class RoutingConfig:
    """[routing]: which persona answers a call to a number no route names."""

    default_persona: str | None = _setting(
        None, "persona_id for calls to unrouted numbers (PARLEY_ROUTING_DEFAULT_PERSONA), the read-only "
        "`default` route; unset = the API's default route if any, else a polite hang-up")


def _default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg else Path.home() / ".local" / "share") / "parley"


@dataclass(frozen=True)
class LimitsConfig:
    """[limits]: what one API key may ask of this node (each node counts its own)."""

    requests_per_minute: int = _setting(
        1200, "API requests per key per minute; more get 429 with Retry-After (0: no limit)", min=0)
    sessions_per_key: int = _setting(
        100, "live API streams one key may hold at once; more get 429 (0: no limit)", min=0)


@dataclass(frozen=True)
class TelemetryConfig:
    """[telemetry]: OpenTelemetry traces, off unless an endpoint is set."""

    traces_endpoint: str | None = _setting(
        None, "OTLP/HTTP traces URL (http://collector:4318/v1/traces): a span per call and per turn; unset: no "
        "tracing. OTEL_EXPORTER_OTLP_HEADERS and the other OTEL_* exporter variables apply")
    service_name: str = _setting("parley", "service.name of the spans")

    def __post_init__(self) -> None:
        endpoint = self.traces_endpoint
        if endpoint is not None and (urlsplit(endpoint).scheme not in ("http", "https")
                                     or not urlsplit(endpoint).hostname):
            raise ConfigError("invalid setting telemetry.traces_endpoint (PARLEY_TELEMETRY_TRACES_ENDPOINT): "
                              f"expected an http:// or https:// URL, got {endpoint!r}")


@dataclass(frozen=True)
class ModelsServerConfig:
    """[models_server]: `parley models serve`, the embedded models as OpenAI-compatible endpoints for other workers."""

    host: str = _setting("127.0.0.1", "interface to bind (PARLEY_MODELS_SERVER_HOST); 0.0.0.0 for all")
    port: int = _setting(8090, "TCP port (PARLEY_MODELS_SERVER_PORT); 0 picks a free one", min=0, max=65535)
    api_key: str | None = _setting(
        None, "a key every request must bring (Authorization: Bearer KEY; PARLEY_MODELS_SERVER_API_KEY); unset: none")


@dataclass(frozen=True)
class Config:
    """The whole configuration. Top-level keys: PARLEY_DATA_DIR, PARLEY_PUBLIC_URL, PARLEY_DATABASE_URL."""

    data_dir: Path | None = _setting(None, "SQLite file, recordings and keys (default ~/.local/share/parley)")
    public_url: str | None = _setting(None, "base URL callers reach us at (default http://HOST:PORT)")
    database_url: str | None = _setting(None, "sqlite:///path (default: parley.db in data_dir) or postgresql://...")
    server: ServerConfig = field(default_factory=ServerConfig)
    log: LogConfig = field(default_factory=LogConfig)
    vad: VADConfig = field(default_factory=VADConfig)
    asr: ASRConfig = field(default_factory=ASRConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    tts: TTSConfig = field(default_factory=TTSConfig)
    sessions: SessionsConfig = field(default_factory=SessionsConfig)
    tools: ToolsConfig = field(default_factory=ToolsConfig)
    sip: SIPConfig = field(default_factory=SIPConfig)
    twilio: TwilioConfig = field(default_factory=TwilioConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    models_server: ModelsServerConfig = field(default_factory=ModelsServerConfig)
    # [personas.<persona_id>] tables: the persona's fields as in POST /v1/personas, plus `numbers`, the
    # E.164 numbers / SIP user parts routed to it. Checked at start-up for shape, against the loaded
    # voices and tools once the models are in (gateway/personas.py). No environment override.
    personas: Mapping[str, Mapping] = field(default_factory=lambda: types.MappingProxyType({}), metadata={"raw": True})

    @property
    def resolved_data_dir(self) -> Path:
        return self.data_dir or _default_data_dir()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'parley.db'}"

    def resolved_public_url(self, port: int | None = None) -> str:
        """The public base URL without a trailing slash; `port` is the port actually bound."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = self.server.host if self.server.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"http://{host}:{port if port is not None else self.server.port}"


_RAW = {f.name for f in dataclasses.fields(Config) if f.metadata.get("raw")}  # tables kept as written
_SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Config) if f.default_factory is not dataclasses.MISSING and f.name not in _RAW}  # type: ignore[misc]
_PERSONA_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _personas(value) -> Mapping[str, Mapping]:
    """[personas.<id>] tables: ids and shapes here; the fields themselves once models are loaded."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"invalid setting personas: expected [personas.<persona_id>] tables, got {value!r}")
    routed: dict[str, str] = {}  # number -> the persona it is routed to
    for persona_id, table in value.items():
        if not _PERSONA_ID.fullmatch(persona_id):
            raise ConfigError(f"invalid persona id {persona_id!r} in [personas]: use 1-64 letters, digits, _ or -")
        if not isinstance(table, Mapping):
            raise ConfigError(f"invalid setting personas.{persona_id}: expected a table, got {table!r}")
        numbers = table.get("numbers", [])
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise ConfigError(f"invalid setting personas.{persona_id}.numbers: expected a list of strings")
        for number in numbers:
            try:
                key = parse_number(number)
            except InvalidRequest as exc:
                raise ConfigError(f"invalid setting personas.{persona_id}.numbers: {exc.message}") from None
            if key in routed:
                raise ConfigError(f"invalid setting personas.{persona_id}.numbers: {number!r} is already routed to "
                                  f"persona {routed[key]!r}")
            routed[key] = persona_id
    return types.MappingProxyType({k: types.MappingProxyType(dict(v)) for k, v in value.items()})


def env_name(section: str | None, key: str) -> str:
    return "PARLEY_" + (f"{section}_{key}" if section else key).upper()


def _build(cls: type, section: str | None, table: Mapping, env: Mapping[str, str]):
    hints = typing.get_type_hints(cls)
    values = {}
    known = {f.name for f in dataclasses.fields(cls)}
    for key in table:
        if key not in known and not (section is None and key in _SECTIONS):
            where = f"{section}.{key}" if section else key
            raise ConfigError(f"unknown setting {where} in the configuration file (known: {', '.join(sorted(known))})")
    for f in dataclasses.fields(cls):
        if section is None and f.name in _RAW:
            if f.name in table:
                values[f.name] = _personas(table[f.name])
            continue
        if section is None and f.name in _SECTIONS:
            sub = table.get(f.name, {})
            if not isinstance(sub, Mapping):
                raise ConfigError(f"invalid setting {f.name}: expected a [{f.name}] table, got {sub!r}")
            values[f.name] = _build(_SECTIONS[f.name], f.name, sub, env)
            continue
        name = env_name(section, f.name)
        where = f"{section + '.' if section else ''}{f.name} ({name})"
        if name in env:
            values[f.name] = coerce(env[name], f, hints, where)
        elif f.name in table:
            values[f.name] = coerce(table[f.name], f, hints, where)
    return cls(**values)


def known_env_names() -> set[str]:
    # The keys `parley call/eval/bench` use (PARLEY_ADMIN_KEY: bench capacity reads /metrics), not settings.
    names = {"PARLEY_CONFIG", "PARLEY_API_KEY", "PARLEY_ADMIN_KEY"}
    for f in dataclasses.fields(Config):
        if f.name in _RAW:
            continue
        if f.name in _SECTIONS:
            names.update(env_name(f.name, sf.name) for sf in dataclasses.fields(_SECTIONS[f.name]))
        else:
            names.add(env_name(None, f.name))
    return names


def load_config(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Defaults, then the TOML file (`path`, else $PARLEY_CONFIG), then PARLEY_* variables."""
    env = os.environ if env is None else env
    path = path or env.get("PARLEY_CONFIG") or None
    table: dict = {}
    if path:
        try:
            with open(path, "rb") as fh:
                table = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"configuration file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from None
    return _build(Config, None, table, env)
