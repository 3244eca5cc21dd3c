"""Fixed lines are synthesised once per voice and rate."""

import pytest

from agents.line_cache import LineCache
from agents.providers.tts.base import AudioChunk

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting


class CountingTTS:
    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def voices(self):
        return []

    async def speak(self, text, voice_id, sample_rate):
        self.calls += 1
        for word in text.split():
            yield AudioChunk(b"\x01\x00" * 160, sample_rate, word)


async def collect(gen):
    return [c async for c in gen]


async def test_a_line_is_synthesised_once_per_voice_and_rate():
    tts, cache = CountingTTS(), LineCache()
    first = await collect(cache.speak(tts, "Let me look that up.", "joe", 16000))
    again = await collect(cache.speak(tts, "Let me look that up.", "joe", 16000))
    assert tts.calls == 1 and [c.pcm for c in again] == [c.pcm for c in first] and len(first) == 5
    await collect(cache.speak(tts, "Let me look that up.", "joe", 8000))
    assert tts.calls == 2


async def test_a_line_cut_off_midway_is_not_cached():
    tts, cache = CountingTTS(), LineCache()
    gen = cache.speak(tts, "Let me look that up.", "joe", 16000)
    await gen.__anext__()
    await gen.aclose()  # barge-in
    chunks = await collect(cache.speak(tts, "Let me look that up.", "joe", 16000))
    assert tts.calls == 2 and len(chunks) == 5


async def test_the_cache_is_bounded():
    tts, cache = CountingTTS(), LineCache(max_lines=2)
    for text in ("one", "two", "three", "one"):
        await collect(cache.speak(tts, text, "joe", 16000))
    assert tts.calls == 4
