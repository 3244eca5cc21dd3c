"""The prompts the first calls will use, read into the LLM's prompt cache as soon as the models are loaded.

A session's conversation reads its own prompt into the cache when its stream opens, but the
first call after a start-up found the cache cold: its system prompt and tools (400-500 tokens)
were read while the caller spoke and the recogniser ran, and its first answer took 2.5-3.5 s
(`parley bench latency --questions ordinary`, first turn after a restart; later turns ~1 s).
Warmed here, in the background: the default route's persona (what a phone call to an unrouted
number gets) and the demo agent of `parley call` and `parley bench` (what a new user tries first).
llama.cpp keeps one prompt per slot and gives a request the slot holding the longest shared prefix.
"""

import time

import structlog
from aiohttp import web

from agents.errors import InvalidRequest
from agents.session import History
from gateway.api.validation import CreateRequest, parse_create
from gateway.app_keys import MODELS, STORAGE
from gateway.call_session import settings_of
from gateway.client import DEMO_AGENT
from gateway.numbers import DEFAULT_ROUTE
from gateway.routing import persona_request

log = structlog.get_logger(__name__)


async def _first_requests(app: web.Application) -> list[tuple[str, CreateRequest]]:
    models = app[MODELS]
    wanted = []
    if DEMO_AGENT["voice_id"] in models.voices and "lookup_order" in models.registry.names():
        wanted.append(("demo", parse_create(DEMO_AGENT, models.voices, models.languages, models.registry,
                                            models.llm_models, models.asr_models)))
    route = await app[STORAGE].get_route(DEFAULT_ROUTE)
    persona = await app[STORAGE].get_persona(route.persona_id) if route is not None else None
    if persona is not None:
        try:
            wanted.append((f"persona:{persona.persona_id}", persona_request(app, persona)))
        except InvalidRequest:
            pass  # it cannot take calls either; routing logs that when one comes
    return wanted


async def warm_prompts(app: web.Application) -> None:
    """Read the first calls' prompts into the LLM's cache; an LLM without one (a server) is left alone.
    Never fails: a prompt that cannot be warmed is a slower first call, logged."""
    llm = app[MODELS].engine.llm
    warm_up = getattr(llm, "warm_up", None)
    if warm_up is None:
        return
    try:
        wanted = await _first_requests(app)
    except Exception as exc:
        log.warning("prompt_warm_failed", error=repr(exc))
        return
    for name, request in wanted:
        settings = settings_of("warm-up", request.settings())
        messages = History().messages(settings.system_prompt, settings.context_window, settings.language)
        started = time.perf_counter()
        try:
            await warm_up(messages, [t.spec() for t in settings.tools])
        except Exception as exc:
            log.warning("prompt_warm_failed", prompt=name, error=repr(exc))
            continue
        log.info("prompt_warmed", prompt=name, ms=round((time.perf_counter() - started) * 1000))
