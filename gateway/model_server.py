"""`parley models serve`: the embedded models (Whisper, the llama.cpp chat model, Piper and espeak-ng voices) as
one OpenAI-compatible server, so that several gateway workers on a machine, or nodes on many, share one copy
(about 1.3 GB) instead of each loading its own. The gateways use it with asr.provider = "remote" and
tts.provider = "remote", and the packaged model's own handling (llm.provider = "llamacpp"), all with
base_url = http://HOST:PORT/v1; any OpenAI-compatible client may use it too.

    POST /v1/audio/transcriptions   multipart: file (WAV, 16-bit PCM, any rate), model, language, prompt,
                                    response_format (json | text | verbose_json)
    POST /v1/audio/speech           JSON: input, voice, response_format (pcm | wav), sample_rate (Parley's: the
                                    rate wanted; default 24000, OpenAI's), streamed as it is synthesised
    GET  /v1/audio/voices           {"voices": [...]} as GET /v1/voices lists them
    POST /v1/chat/completions       passed to llama.cpp's own OpenAI-compatible handler (streamed or not)
    GET  /v1/props                  the chat template's abilities, as llama.cpp's server reports them
    GET  /v1/models                 the models served
    GET  /healthz                   200 {"status": "ok"} once loaded; 503 while loading or if loading failed

What the configuration points elsewhere (asr.provider = "remote", ...) is not served. Errors are JSON
({"error": {"code", "message", "param"}}), never a traceback.
"""

import asyncio
import hmac
import io
import json
import time
import wave
from dataclasses import dataclass, field

import structlog
from aiohttp import web

from agents.errors import InvalidRequest, NotFound, ParleyError, ProviderError, Unauthorized
from gateway.config import Config, ConfigError
from gateway.errors import error_middleware
from media.audioop_lib import audioop
from media.errors import MediaError
from media.resample import Resampler
from media.wav import wav_bytes

log = structlog.get_logger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # OpenAI's limit for a transcription upload
MAX_CLIP_S = 120  # Whisper reads a clip whole: a call's turn is seconds long
MAX_SPEECH_CHARS = 4096  # OpenAI's limit for /audio/speech input
ASR_RATE = 16000
SPEECH_RATE = 24000  # OpenAI's pcm rate, the default when the request does not say


@dataclass
class Served:
    """The providers this server runs (None: not served here) and whether they are loaded."""

    asr: object | None = None
    llm: object | None = None
    tts: object | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None


SERVED: web.AppKey[Served] = web.AppKey("served", Served)
CONFIG: web.AppKey[Config] = web.AppKey("models_config", Config)


def served_parts(config: Config) -> list[str]:
    """What this configuration has embedded, hence what `parley models serve` serves."""
    parts = [name for name, local in (("asr", config.asr.provider != "remote"),
                                      ("llm", config.llm.provider == "llamacpp" and not config.llm.base_url),
                                      ("tts", config.tts.provider == "local")) if local]
    if not parts:
        raise ConfigError("parley models serve serves the embedded models, but asr, llm and tts all point to "
                          "servers (asr.provider, llm.provider, tts.provider)")
    return parts


def _load(config: Config, served: Served) -> None:
    """Load what is served (blocking: run in a thread)."""
    from gateway.models import make_asr_from, make_llm_from, make_tts_from, warm

    parts = served_parts(config)
    if "asr" in parts:
        served.asr = make_asr_from(config)
        warm(served.asr)
    if "llm" in parts:
        llm = make_llm_from(config)
        llm.load()
        served.llm = llm
    if "tts" in parts:
        served.tts = make_tts_from(config)


async def _load_all(app: web.Application) -> None:
    served, started = app[SERVED], time.perf_counter()
    try:
        await asyncio.to_thread(_load, app[CONFIG], served)
        if served.llm is not None:
            await served.llm.warm_up()
    except Exception as exc:  # shown by /healthz and the log; the server stays up to say so
        served.error = f"{type(exc).__name__}: {exc}"
        log.error("models_failed", error=served.error)
        return
    served.ready.set()
    log.info("models_served", seconds=round(time.perf_counter() - started, 1),
             asr=served.asr is not None, llm=served.llm is not None, tts=served.tts is not None)


# -- middlewares (errors: the gateway's own, every error a JSON envelope) ---------------------------


def _auth(api_key: str | None):
    @web.middleware
    async def check(request: web.Request, handler):
        if api_key is not None and request.path != "/healthz":
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if not hmac.compare_digest(given.encode(), api_key.encode()):
                raise Unauthorized("a valid API key is needed: Authorization: Bearer KEY")
        return await handler(request)

    return check


def _ready(request: web.Request, part: str):
    served = request.app[SERVED]
    if not served.ready.is_set():
        raise _Unavailable(f"the models are {'not loaded: ' + served.error if served.error else 'loading'}")
    provider = getattr(served, part)
    if provider is None:
        raise NotFound(f"this server does not run the {part.upper()} (the configuration points it elsewhere)")
    return provider


class _Unavailable(ParleyError):
    code, status = "unavailable", 503


# -- routes --------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    served = request.app[SERVED]
    if served.ready.is_set():
        return web.json_response({"status": "ok", "serves": served_parts(request.app[CONFIG])})
    body = {"status": "error", "error": served.error} if served.error else {"status": "loading"}
    return web.json_response(body, status=503)


async def models(request: web.Request) -> web.Response:
    served = request.app[SERVED]
    names = []
    if served.asr is not None:
        models_for = getattr(served.asr, "models_for", lambda _: [])
        names += sorted({"whisper-1", *(m for lang in served.asr.languages for m in models_for(lang))})
    if served.llm is not None:
        names.append(str(served.llm.model))
    if served.tts is not None:
        names.append("tts-1")
    return web.json_response({"object": "list", "data": [{"id": name, "object": "model", "owned_by": "parley"}
                                                          for name in names]})


async def transcriptions(request: web.Request) -> web.Response:
    asr = _ready(request, "asr")
    form = await request.post()
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        raise InvalidRequest("file is required: a WAV file (16-bit PCM) as multipart form data", param="file")
    pcm = _wav_to_asr_pcm(upload.file.read())
    language = str(form.get("language") or "en")
    if language not in asr.languages:
        raise InvalidRequest(f"language {language!r} is not heard here (heard: {', '.join(sorted(asr.languages))})",
                             param="language")
    model = str(form.get("model") or "")
    prompt = str(form.get("prompt") or "")
    vocabulary = [term.strip() for term in prompt.rstrip(". ").split(",") if term.strip()]
    named = model in getattr(asr, "models_for", lambda _: [])(language)  # one of ours (tiny.en, base), else by language
    stream = asr.open(language, ASR_RATE, vocabulary, model=model) if named else asr.open(language, ASR_RATE, vocabulary)
    stream.push(pcm)
    text = await stream.final()
    response_format = str(form.get("response_format") or "json")
    if response_format == "text":
        return web.Response(text=text)
    if response_format == "verbose_json":
        return web.json_response({"task": "transcribe", "language": language, "text": text,
                                  "duration": round(len(pcm) / 2 / ASR_RATE, 3)})
    if response_format != "json":
        raise InvalidRequest("response_format must be json, text or verbose_json", param="response_format")
    return web.json_response({"text": text})


def _wav_to_asr_pcm(data: bytes) -> bytes:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError) as exc:
        raise InvalidRequest(f"file must be a WAV file of 16-bit PCM ({exc or 'it ends too soon'})",
                             param="file") from None
    if width != 2 or channels not in (1, 2):
        raise InvalidRequest("file must be 16-bit PCM, mono or stereo", param="file")
    if channels == 2:
        frames = audioop.tomono(frames, 2, 0.5, 0.5)
    if len(frames) > MAX_CLIP_S * rate * 2:
        raise InvalidRequest(f"the clip is longer than {MAX_CLIP_S} s", param="file")
    try:
        return Resampler(rate, ASR_RATE).process(frames) if rate != ASR_RATE else frames
    except MediaError as exc:
        raise InvalidRequest(f"file: {exc}", param="file") from None


async def voices(request: web.Request) -> web.Response:
    tts = _ready(request, "tts")
    return web.json_response({"voices": [voice.to_wire() for voice in tts.voices()]})


async def speech(request: web.Request) -> web.StreamResponse:
    tts = _ready(request, "tts")
    body = await _json_object(request)
    text = body.get("input")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_SPEECH_CHARS:
        raise InvalidRequest(f"input must be non-empty text of at most {MAX_SPEECH_CHARS} characters", param="input")
    voice = body.get("voice")
    if not isinstance(voice, str):
        raise InvalidRequest("voice is required (GET /v1/audio/voices lists them)", param="voice")
    response_format = body.get("response_format", "wav")
    if response_format not in ("pcm", "wav"):
        raise InvalidRequest("response_format must be pcm (raw 16-bit little-endian mono, streamed) or wav",
                             param="response_format")
    rate = body.get("sample_rate", SPEECH_RATE)
    if isinstance(rate, bool) or not isinstance(rate, int):
        raise InvalidRequest("sample_rate must be an integer (Hz)", param="sample_rate")
    if body.get("speed", 1.0) != 1.0:
        raise InvalidRequest("speed other than 1.0 is not supported", param="speed")
    chunks = tts.speak(text, voice, rate).__aiter__()  # an unknown voice or rate raises here, as a 400
    if response_format == "wav":
        pcm = b"".join([chunk.pcm async for chunk in chunks])
        return web.Response(body=wav_bytes(pcm, rate), content_type="audio/wav", headers={"X-Sample-Rate": str(rate)})
    first = await anext(chunks, None)  # a failure before any audio is still a JSON error
    response = web.StreamResponse(headers={"Content-Type": "audio/pcm", "X-Sample-Rate": str(rate)})
    await response.prepare(request)
    try:
        if first is not None:
            await response.write(first.pcm)
        async for chunk in chunks:
            await response.write(chunk.pcm)
    except ProviderError as exc:  # mid-stream: the status has gone; the client sees the stream cut short
        log.error("speech_failed", error=str(exc))
        return response
    await response.write_eof()
    return response


async def chat_completions(request: web.Request) -> web.StreamResponse:
    llm = _ready(request, "llm")
    body = await _json_object(request)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        raise InvalidRequest("messages must be a non-empty list", param="messages")
    if not body.get("stream"):
        result = await llm.completion(body)
        if "choices" not in result:
            return web.json_response({"error": _llama_error(result)}, status=400)
        return web.json_response({**result, "model": llm.model})  # llama.cpp names the file
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    try:
        async for chunk in llm.completion_chunks(body):  # a client gone mid-stream stops llama.cpp (aclosing)
            chunk = {**chunk, "model": llm.model} if "choices" in chunk else {"error": _llama_error(chunk)}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    except ProviderError as exc:
        await response.write(f"data: {json.dumps({'error': {'code': 'internal', 'message': str(exc)}})}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def props(request: web.Request) -> web.Response:
    """What a gateway's LlamaCppLLM asks llama.cpp before it shapes requests (llama.cpp's own /props)."""
    llm = _ready(request, "llm")
    return web.json_response({"model": llm.model, "chat_template_caps": {"supports_tools": llm.template_has_tools}})


def _llama_error(result: dict) -> dict:
    error = result.get("error", result)
    message = error.get("message", error) if isinstance(error, dict) else error
    return {"code": "invalid_request", "message": str(message)[:500]}


async def _json_object(request: web.Request) -> dict:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise InvalidRequest("the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    return body


def create_models_app(config: Config) -> web.Application:
    app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 64 * 1024,
                          middlewares=[error_middleware, _auth(config.models_server.api_key)])
    app[CONFIG] = config
    app[SERVED] = Served()
    served_parts(config)  # nothing embedded: say so at once

    async def loading(app: web.Application):
        task = asyncio.create_task(_load_all(app), name="models-load")
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for provider in (app[SERVED].asr, app[SERVED].llm, app[SERVED].tts):
            close = getattr(provider, "close", None)
            if close is not None and not asyncio.iscoroutinefunction(close):
                await asyncio.to_thread(close)

    app.cleanup_ctx.append(loading)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/audio/transcriptions", transcriptions)
    app.router.add_get("/v1/audio/voices", voices)
    app.router.add_post("/v1/audio/speech", speech)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/props", props)
    return app
