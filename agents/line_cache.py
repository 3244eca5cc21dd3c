"""Audio of the lines an agent says again and again (hold line, greeting, fallbacks), synthesised once.

The hold line is what a caller hears first on every tool turn, so its TTS time
(100-500 ms for Piper on a busy machine) would sit on the critical path of
every such turn. Entries are keyed by (text, voice, rate) and bounded.
"""

from collections import OrderedDict
from collections.abc import AsyncIterator

from agents.providers.tts.base import TTS, AudioChunk

MAX_LINES = 256
MAX_LINE_CHARS = 200
OPENERS_KEPT = 128
OPENER_MAX_WORDS = 3  # "Yes,", "Of course,": a piece this short is kept as an opener


def is_opener(text: str) -> bool:
    return len(text.split()) <= OPENER_MAX_WORDS and len(text) <= 24


class LineCache:
    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self._lines: OrderedDict[tuple[str, str, int], tuple[AudioChunk, ...]] = OrderedDict()
        self.max_lines = max_lines

    async def speak(self, tts: TTS, text: str, voice_id: str, sample_rate: int) -> AsyncIterator[AudioChunk]:
        """`tts.speak`, from the cache when this line was said before in this voice and rate."""
        key = (text, voice_id, sample_rate)
        cached = self._lines.get(key)
        if cached is not None:
            self._lines.move_to_end(key)
            for chunk in cached:
                yield chunk
            return
        chunks: list[AudioChunk] = []
        async for chunk in tts.speak(text, voice_id, sample_rate):
            chunks.append(chunk)
            yield chunk
        # Only reached when the line was synthesised to the end (a barge-in closes the generator first).
        if len(text) <= MAX_LINE_CHARS:
            self._lines[key] = tuple(chunks)
            while len(self._lines) > self.max_lines:
                self._lines.popitem(last=False)

    async def keep(self, tts: TTS, text: str, voice_id: str, sample_rate: int) -> None:
        """Synthesise `text` now unless it is kept already (the next `speak` of it is then served from here)."""
        if (text, voice_id, sample_rate) in self._lines:
            return
        async for _ in self.speak(tts, text, voice_id, sample_rate):
            pass
