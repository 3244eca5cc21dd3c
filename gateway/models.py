"""The models a call needs, loaded once per process in the background; /healthz is ok only once they are.

Loading runs in a worker thread so the server answers (503) while it works.
The conversation issue adds ASR, LLM and TTS here.
"""

import asyncio
import time
from dataclasses import dataclass, field

import structlog

from gateway.config import Config
from media.vad.silero import SileroModel

log = structlog.get_logger(__name__)


@dataclass
class Models:
    """Shared, loaded-once models, and whether they are ready."""

    silero: SileroModel | None = None
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    error: str | None = None

    @property
    def status(self) -> str:
        return "ok" if self.ready.is_set() else ("error" if self.error else "loading")


def _load(config: Config, models: Models) -> None:
    if config.vad.backend == "silero":
        models.silero = SileroModel()
    # webrtcvad has no model to load; touching it here fails early if the wheel is broken.
    import webrtcvad

    webrtcvad.Vad(2)


async def load_models(config: Config, models: Models) -> None:
    started = time.perf_counter()
    try:
        await asyncio.to_thread(_load, config, models)
    except Exception as exc:  # a broken install must show in /healthz and the log, not kill the server
        models.error = f"{type(exc).__name__}: {exc}"
        log.error("models_failed", error=models.error)
        return
    models.ready.set()
    log.info("models_loaded", seconds=round(time.perf_counter() - started, 2), vad=config.vad.backend)
