"""The real gateway with instant ASR, LLM and TTS, so that `parley bench capacity` measures the gateway itself:
its doors, codecs, resampling, speech detection (the configured VAD, real), turn-taking, storage and pacing.

Only for benchmarks (issue 14, item 5): the providers here answer every question with one fixed sentence at
once; the real ones are measured by `parley bench latency` and the test suite.

    .venv/bin/python tests/perf/instant_gateway.py --port 8095 [--config parley.toml]

Configured like `parley serve` (PARLEY_* variables, a TOML file); prints nothing, logs as configured.
"""

import argparse
import math
import os
import struct
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from agents.engine import Engine  # noqa: E402
from agents.providers.llm.base import LLMOptions, Message, TextDelta, ToolSpec  # noqa: E402
from agents.providers.tts.base import AudioChunk, VoiceInfo  # noqa: E402
from agents.tools.registry import ToolRegistry  # noqa: E402
from agents.tools.runner import ToolRunner  # noqa: E402
from gateway.app import create_app  # noqa: E402
from gateway.config import load_config  # noqa: E402
from gateway.logs import configure_logging  # noqa: E402
from gateway.models import Models  # noqa: E402
from media.vad.webrtc import WebRtcVAD  # noqa: E402

HEARD = "What are your opening hours?"
ANSWER = "We are open from nine in the morning to five in the evening, Monday to Friday."
MS_PER_WORD = 250  # about Piper's pace: the answer above is ~4 s


class InstantStream:
    def __init__(self) -> None:
        self.heard = False

    def push(self, pcm: bytes) -> None:
        self.heard = True

    async def partial(self) -> str | None:
        return HEARD if self.heard else None

    async def so_far(self, quick: bool = False) -> str:
        return HEARD if self.heard else ""

    async def final(self) -> str:
        return HEARD if self.heard else ""

    def cancel(self) -> None:
        pass


class InstantASR:
    name = "instant"
    languages = frozenset({"en"})

    def open(self, language: str, sample_rate: int = 16000, vocabulary: Sequence[str] = ()) -> InstantStream:
        return InstantStream()


class InstantLLM:
    name = "instant"

    async def reply(self, messages: list[Message], tools: list[ToolSpec], options: LLMOptions) -> AsyncIterator:
        yield TextDelta(ANSWER)


class InstantTTS:
    """A quiet tone as long as the text would take to say; made once per length and rate."""

    name = "instant"

    def __init__(self) -> None:
        self._made: dict[tuple[int, int], bytes] = {}

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("joe", "Instant", ("en",), None, "instant", 16000)]

    async def speak(self, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        ms = MS_PER_WORD * max(1, len(text.split()))
        key = (ms, sample_rate)
        if key not in self._made:
            n = sample_rate * ms // 1000
            self._made[key] = struct.pack(f"<{n}h", *(round(2000 * math.sin(2 * math.pi * 220 * i / sample_rate))
                                                     for i in range(n)))
        yield AudioChunk(self._made[key], sample_rate, text)


def instant_models(config) -> Models:
    models = Models()
    models.registry = ToolRegistry.discover()
    tts = InstantTTS()
    models.voices = {v.voice_id: v for v in tts.voices()}
    models.languages = frozenset({"en"})
    models.llm_models = frozenset({"instant"})
    vad, s = config.vad, config.sessions
    if vad.backend == "silero":
        from media.vad.silero import SileroModel

        make_vad = SileroModel().stream
    else:
        make_vad = WebRtcVAD
    models.engine = Engine(asr=InstantASR(), llm=InstantLLM(), tts=tts,
                           tools=ToolRunner(models.registry, timeout_s=s.tool_timeout_s), make_vad=make_vad,
                           vad_threshold=vad.threshold, min_speech_ms=vad.min_speech_ms, hangover_ms=vad.hangover_ms,
                           endpoint_min_ms=vad.endpoint_min_ms, endpoint_max_ms=vad.endpoint_max_ms,
                           transcribe_after_ms=vad.transcribe_after_ms, speculate=s.speculative_replies,
                           idle_timeout_s=s.idle_timeout_s)
    models.ready.set()
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8095)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--config", help="TOML configuration file")
    args = parser.parse_args()
    config = load_config(args.config, dict(os.environ))
    configure_logging(config.log.format, config.log.level, mask_numbers=config.log.mask_numbers)
    app = create_app(config, instant_models(config))
    loop = None
    if config.server.event_loop == "uvloop":  # as `parley serve` runs it
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(app, host=args.host, port=args.port, print=None, loop=loop)


if __name__ == "__main__":
    main()
