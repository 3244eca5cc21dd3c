"""A blocking call with a per-item callback, consumed as an async iterator (what llama.cpp's streaming rides on)."""

import asyncio
import contextlib
import time

import pytest

from agents.pool import InferencePool
from agents.providers.llm.callback_stream import callback_stream


@pytest.fixture
def pool():
    pool = InferencePool("test", 1)
    yield pool
    pool.shutdown()


async def test_items_arrive_in_order_and_ended_is_set(pool):
    ended = asyncio.Event()

    def call(on_item):
        for i in range(5):
            on_item({"n": i})

    got = [item["n"] async for item in callback_stream(pool, call, RuntimeError, ended)]
    assert got == [0, 1, 2, 3, 4]
    await asyncio.wait_for(ended.wait(), 5)


async def test_a_failing_call_is_raised_as_the_callers_error(pool):
    def call(on_item):
        on_item({"n": 0})
        raise OSError("boom")

    with pytest.raises(ValueError, match="failed: boom"):
        async for _ in callback_stream(pool, call, lambda exc: ValueError(f"failed: {exc}")):
            pass


async def test_a_consumer_that_stops_tells_the_callee_to_stop(pool):
    stopped = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()

    def call(on_item):
        for i in range(10_000):
            if on_item({"n": i}):  # True: nobody is reading any more
                loop.call_soon_threadsafe(stopped.set_result, i)
                return
            time.sleep(0.001)  # on the worker thread: the consumer gets a chance to stop reading

    async with contextlib.aclosing(callback_stream(pool, call, RuntimeError)) as items:
        async for item in items:
            if item["n"] == 2:
                break
    assert await asyncio.wait_for(stopped, 5) < 10_000

