"""stream_pieces with a scripted engine: one piece ahead, nothing after the consumer leaves, errors wrapped."""

import asyncio
import threading
import time

import numpy as np
import pytest

from agents.errors import InvalidRequest, ProviderError
from agents.pool import InferencePool
from agents.providers.tts.stream import check_sample_rate, stream_pieces, trim_leading_silence

RATE = 16000


class ScriptedEngine:
    """Blocking fake synthesiser: 0.5 s of tone per piece after `delay_s`; records starts and ends."""

    def __init__(self, delay_s: float = 0.05, lead_silence_ms: int = 0, fail_on: str | None = None) -> None:
        self.delay_s = delay_s
        self.lead = np.zeros(RATE * lead_silence_ms // 1000, dtype=np.int16)
        self.fail_on = fail_on
        self.started: list[str] = []
        self.finished: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, piece: str) -> bytes:
        with self.lock:
            self.started.append(piece)
        time.sleep(self.delay_s)
        if piece == self.fail_on:
            raise RuntimeError("model exploded")
        tone = (8000 * np.sin(np.arange(RATE // 2) * 2 * np.pi * 440 / RATE)).astype(np.int16)
        with self.lock:
            self.finished.append(piece)
        return np.concatenate([self.lead, tone]).tobytes()


@pytest.fixture(scope="module")
def pool():
    pool = InferencePool("stream-test", 2)
    yield pool
    pool.shutdown()


async def wait_idle(engine: ScriptedEngine, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while len(engine.finished) < len(engine.started) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


PIECES = [f"Sentence {i}." for i in range(8)]


async def test_each_piece_becomes_one_chunk_in_order_at_the_requested_rate(pool):
    engine = ScriptedEngine(delay_s=0.0)
    chunks = [c async for c in stream_pieces(pool, PIECES[:3], engine, RATE, 8000, "fake")]
    assert [c.text for c in chunks] == PIECES[:3]
    assert all(c.sample_rate == 8000 and len(c.pcm) == 8000 for c in chunks)  # 0.5 s at 8 kHz, exactly


async def test_synthesis_runs_one_piece_ahead_of_the_consumer(pool):
    engine = ScriptedEngine(delay_s=0.05)
    stream = stream_pieces(pool, PIECES, engine, RATE, RATE, "fake")
    first = await anext(stream)
    assert first.text == PIECES[0]
    await asyncio.sleep(0.3)  # a slow consumer: the engine must not run away with the whole reply
    assert engine.started == PIECES[:2]
    await stream.aclose()


async def test_aclose_starts_no_further_piece_and_leaves_the_pool_free(pool):
    engine = ScriptedEngine(delay_s=0.1)
    stream = stream_pieces(pool, PIECES, engine, RATE, RATE, "fake")
    await anext(stream)
    await stream.aclose()
    started = list(engine.started)
    assert len(started) <= 2
    await wait_idle(engine)
    await asyncio.sleep(0.3)
    assert engine.started == started
    # Both workers answer at once: nothing is stuck on them.
    await asyncio.wait_for(asyncio.gather(pool.run(time.sleep, 0), pool.run(time.sleep, 0)), 1.0)


async def test_cancelling_the_consumer_task_stops_synthesis(pool):
    engine = ScriptedEngine(delay_s=0.2)

    async def consume():
        async for _ in stream_pieces(pool, PIECES, engine, RATE, RATE, "fake"):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)  # inside the first piece
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_idle(engine)
    await asyncio.sleep(0.3)
    assert engine.started == PIECES[:1]


async def test_a_queued_piece_is_cancelled_before_it_runs():
    pool = InferencePool("one-worker", 1)
    try:
        blocker = threading.Event()
        pool.submit(blocker.wait, 5)  # the only worker is busy elsewhere
        engine = ScriptedEngine(delay_s=0.0)
        stream = stream_pieces(pool, PIECES, engine, RATE, RATE, "fake")
        task = asyncio.create_task(anext(stream))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await stream.aclose()
        blocker.set()
        await asyncio.wait_for(pool.run(time.sleep, 0), 1.0)
        assert engine.started == []
    finally:
        pool.shutdown()


async def test_an_engine_failure_is_a_provider_error_naming_the_engine(pool):
    engine = ScriptedEngine(delay_s=0.0, fail_on=PIECES[1])
    stream = stream_pieces(pool, PIECES, engine, RATE, RATE, "fake")
    assert (await anext(stream)).text == PIECES[0]
    with pytest.raises(ProviderError, match="fake synthesis failed: model exploded"):
        await anext(stream)


async def test_only_the_first_audio_of_a_reply_loses_its_leading_silence(pool):
    engine = ScriptedEngine(delay_s=0.0, lead_silence_ms=200)
    chunks = [c async for c in stream_pieces(pool, PIECES[:2], engine, RATE, RATE, "fake")]
    lead_ms = [len(c.pcm) / 2 / RATE * 1000 - 500 for c in chunks]
    assert 15 <= lead_ms[0] <= 25  # trimmed to the 20 ms lead-in
    assert lead_ms[1] == pytest.approx(200)  # a pause between sentences is kept


async def test_no_pieces_yield_nothing(pool):
    engine = ScriptedEngine()
    assert [c async for c in stream_pieces(pool, [], engine, RATE, RATE, "fake")] == []
    assert engine.started == []


def test_trim_keeps_silence_only_and_everything_after_the_onset():
    silence = bytes(2 * 1000)
    assert trim_leading_silence(silence, RATE) == silence
    speech = np.full(100, 5000, dtype=np.int16).tobytes()
    assert trim_leading_silence(silence + speech, RATE).endswith(speech)


def test_an_unsupported_rate_is_an_invalid_request_on_sample_rate():
    assert check_sample_rate(8000) == 8000
    with pytest.raises(InvalidRequest) as info:
        check_sample_rate(44100)
    assert info.value.param == "sample_rate"


async def test_a_shut_down_pool_is_a_provider_error():
    pool = InferencePool("gone", 1)
    pool.shutdown()
    with pytest.raises(ProviderError, match="shut down"):
        await anext(stream_pieces(pool, PIECES, ScriptedEngine(), RATE, RATE, "fake"))
