"""The models a call needs, loaded once per process in the background; /healthz is ok only once they are.

Loading (and one warm-up inference each, so the first caller does not pay for
it) runs in a worker thread: the server answers 503 meanwhile.
"""

import asyncio
import inspect
import time
from dataclasses import dataclass, field

import structlog

from agents.engine import Engine
from agents.languages import NAMES as language_names
from agents.providers.llm.base import LLMOptions
from agents.providers.tts.base import VoiceInfo
from agents.tools.registry import ToolRegistry
from agents.tools.runner import ToolRunner
from gateway.config import Config, ConfigError
from media.denoise import DtlnModel
from media.errors import MediaError
from media.vad.silero import SileroModel
from media.vad.webrtc import WebRtcVAD

log = structlog.get_logger(__name__)


@dataclass
class Models:
    """Shared, loaded-once models and what they offer, and whether they are ready."""

    engine: Engine | None = None
    voices: dict[str, VoiceInfo] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()  # what both the ASR hears and some voice speaks
    registry: ToolRegistry = field(default_factory=ToolRegistry)
    llm_models: frozenset[str] | None = frozenset()  # what a session's llm.model may name; None = any (a server)
    asr_models: dict[str, list[str]] = field(default_factory=dict)  # language -> what a session's asr.model may name
    silero: SileroModel | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.ready.is_set() else ("error" if self.error else "loading")


def _parts(models: "Models") -> dict[str, list]:
    engine = models.engine
    if engine is None:
        return {}
    return {"asr": list(getattr(engine.asr, "providers", [engine.asr])), "llm": [engine.llm],
            "tts": list(getattr(engine.tts, "providers", [engine.tts]))}


def provider_health(models: "Models") -> dict[str, dict]:
    """Each part's state for /healthz: a provider on a server reports how its latest request went."""
    report = {}
    for part, providers in _parts(models).items():
        failing = [h for h in (getattr(p, "health", None) for p in providers) if h is not None and h.error]
        report[part] = failing[0].to_wire() if failing else {"status": "ok"}
    return report


async def close_providers(models: "Models") -> None:
    """Close what holds connections (the providers on servers: their HTTP sessions)."""
    for providers in _parts(models).values():
        for provider in providers:
            close = getattr(provider, "close", None)
            if close is not None and inspect.iscoroutinefunction(close):
                await close()


def warm(provider) -> None:
    """Run a provider's blocking warm-up; async ones run later, on the loop (see load_models)."""
    warm_up = getattr(provider, "warm_up", None)
    if warm_up is not None and not inspect.iscoroutinefunction(warm_up):
        warm_up()


def make_asr_from(config: Config):
    """The main ASR (tiny.en by default) and, for the wanted languages it lacks, the multilingual Whisper,
    both loaded now (once per process) and sharing one inference pool."""
    from agents.pool import InferencePool
    from agents.providers.asr import make_asr
    from agents.providers.asr.packaged import resolve_whisper
    from agents.providers.asr.router import LanguageRouter
    from agents.providers.asr.whisper import MULTILINGUAL_TEMPERATURES
    from agents.providers.asr.whisper_window import Window

    c = config.asr
    wanted = c.wanted_languages
    if c.provider == "remote":
        from agents.providers.asr.remote import RemoteASR

        # The server is trusted to hear what asr.languages lists ("all": every language some voice speaks).
        languages = wanted if wanted is not None else frozenset(language_names)
        return RemoteASR(c.base_url, languages, model=c.remote_model, api_key=c.api_key, prompt=c.prompt)
    if c.provider == "vosk":
        if not c.model_path:
            raise ConfigError("asr.model_path (PARLEY_ASR_MODEL_PATH) must name a vosk model folder")
        return make_asr("vosk", model_path=c.model_path, language=c.language)
    pool = InferencePool("asr", 2)
    window = Window(min_s=c.window_s)
    main_name = c.model_path or "tiny.en"
    main = make_asr("whisper", model_path=resolve_whisper(main_name), cpu_threads=c.threads,
                    window=window, pool=pool, **c.whisper_options())
    routes = {lang: main for lang in main.languages if wanted is None or lang in wanted}
    choices = {(main_name, lang): main for lang in routes}
    if c.multilingual_model.lower() != "none" and (wanted is None or wanted - main.languages):
        multi = make_asr("whisper", model_path=resolve_whisper(c.multilingual_model), cpu_threads=c.threads,
                         window=window, pool=pool, final_temperatures=MULTILINGUAL_TEMPERATURES)
        # A session in the main model's language may pick the multilingual one (asr.model): the same weights with
        # the main model's decoding aids (a persona whose callers tiny.en hears poorly; README "ASR on phone audio").
        aided = multi.tuned(**c.whisper_options())
        for lang in multi.languages:
            if lang not in routes and (wanted is None or lang in wanted):
                routes[lang] = multi
                choices[(c.multilingual_model, lang)] = multi
            elif routes.get(lang) is main:
                choices[(c.multilingual_model, lang)] = aided
    if not routes:
        raise ConfigError(f"asr.languages (PARLEY_ASR_LANGUAGES) is {c.languages!r}, but the ASR models transcribe "
                          f"none of them (asr.multilingual_model is {c.multilingual_model!r})")
    return LanguageRouter(routes, choices)


def make_llm_from(config: Config):
    from agents.providers.llm import make_llm

    c = config.llm
    if c.provider == "openai":
        if not c.base_url or not c.model:
            raise ConfigError("llm.base_url (PARLEY_LLM_BASE_URL) and llm.model (PARLEY_LLM_MODEL) are needed "
                              "for the openai provider")
        return make_llm("openai", base_url=c.base_url, model=c.model, api_key=c.api_key)
    options = {"threads": c.threads or None, "tool_policy": c.tool_policy, "constrained_calls": c.constrained_calls}
    if c.base_url:  # the packaged model on `parley models serve`, with this process's handling of it
        options.update(base_url=c.base_url, api_key=c.api_key)
    return make_llm("llamacpp", model=c.model_path, **options) if c.model_path else make_llm("llamacpp", **options)


def make_tts_from(config: Config):
    from agents.providers.tts import VoiceCatalog, make_tts

    c = config.tts
    if c.provider == "remote":
        from agents.providers.tts.remote import RemoteTTS

        remote = RemoteTTS(c.base_url, model=c.remote_model, api_key=c.api_key,
                           voices=[v.strip() for v in c.remote_voices.split(",") if v.strip()])
        remote.load()
        return VoiceCatalog([remote])
    extra = [config.tts.piper_voice] if config.tts.piper_voice else []
    providers = [make_tts("piper", voice_files=extra)]
    if config.tts.espeak:
        providers.append(make_tts("espeak"))
    for provider in providers:
        warm(provider)
    return VoiceCatalog(providers)


def _denoiser():
    """DTLN for sessions that ask for noise suppression; None (and one log line) if it is not installed or
    does not load: those sessions then hear the caller as the line delivers them."""
    try:
        model = DtlnModel()
    except MediaError as exc:
        log.warning("noise_suppression_unavailable", error=str(exc))
        return None
    return model.stream


def build_engine(config: Config, models: Models) -> None:
    """Load everything (blocking: run it in a thread) and fill `models`."""
    models.registry = ToolRegistry.discover()
    if config.vad.backend == "silero":
        silero = models.silero = SileroModel()
        make_vad = silero.stream
    else:
        make_vad = WebRtcVAD
    make_denoiser = _denoiser()
    asr = make_asr_from(config)
    warm(asr)
    llm = make_llm_from(config)
    load = getattr(llm, "load", None)  # llama.cpp: resolve the weights and load the model (blocking)
    if load is not None:
        load()
    warm(llm)
    # An OpenAI-compatible server may offer several models; the in-process one has just its own.
    models.llm_models = None if config.llm.provider == "openai" else frozenset({str(getattr(llm, "model", ""))})
    tts = make_tts_from(config)
    spoken = {lang for voice in tts.voices() for lang in voice.languages}
    models.languages = frozenset(asr.languages) & spoken
    models_for = getattr(asr, "models_for", None)
    models.asr_models = {lang: models_for(lang) for lang in models.languages} if models_for else {}
    if not models.languages:
        raise ConfigError(f"no language is both heard by the ASR ({', '.join(sorted(asr.languages))}) and spoken by "
                          "a voice: check asr.languages, asr.multilingual_model and the [tts] voices")
    unavailable = sorted((config.asr.wanted_languages or models.languages) - models.languages)
    if unavailable:
        log.warning("languages_unavailable", languages=unavailable,
                    hint="asr.languages lists them, but no ASR model hears them or no voice speaks them")
    # GET /v1/voices and the voice_id check know only the voices that speak an installed language.
    models.voices = {voice.voice_id: voice for voice in tts.voices()
                     if any(lang in models.languages for lang in voice.languages)}
    models.engine = Engine(
        asr=asr, llm=llm, tts=tts,
        tools=ToolRunner(models.registry, timeout_s=config.sessions.tool_timeout_s),
        make_vad=make_vad,
        make_denoiser=make_denoiser,
        llm_options=LLMOptions(temperature=config.llm.temperature, max_tokens=config.llm.max_tokens),
        vad_threshold=config.vad.threshold,
        min_speech_ms=config.vad.min_speech_ms,
        hangover_ms=config.vad.hangover_ms,
        endpoint_min_ms=config.vad.endpoint_min_ms,
        endpoint_max_ms=config.vad.endpoint_max_ms,
        transcribe_after_ms=config.vad.transcribe_after_ms,
        speculate=config.sessions.speculative_replies,
        interrupt_min_ms=config.sessions.interrupt_min_ms,
        backchannel_max_ms=config.sessions.backchannel_max_ms,
        resume_after_backchannel=config.sessions.resume_after_backchannel,
        echo_suppression_db=config.sessions.echo_suppression_db,
        partial_interval_ms=config.sessions.partial_interval_ms,
        idle_timeout_s=config.sessions.idle_timeout_s,
        max_turn_ms=round(config.sessions.max_turn_s * 1000),
        hold_after_ms=config.sessions.hold_after_ms,
        hold_line=config.sessions.hold_line,
        refuse_invented_numbers=config.llm.refuse_invented_numbers,
        keep_apology=config.tts.provider == "remote",
    )


async def load_models(config: Config, models: Models) -> None:
    started = time.perf_counter()
    try:
        await asyncio.to_thread(build_engine, config, models)
        assert models.engine is not None
        for provider in (models.engine.asr, models.engine.llm, models.engine.tts):
            warm_up = getattr(provider, "warm_up", None)
            if warm_up is not None and inspect.iscoroutinefunction(warm_up):
                await warm_up()
    except Exception as exc:  # a broken install must show in /healthz and the log, not kill the server
        models.error = f"{type(exc).__name__}: {exc}"
        log.error("models_failed", error=models.error)
        return
    models.ready.set()
    log.info("models_loaded", seconds=round(time.perf_counter() - started, 1), vad=config.vad.backend,
             asr=config.asr.provider, llm=config.llm.provider, voices=sorted(models.voices),
             languages=sorted(models.languages), tools=models.registry.names())
