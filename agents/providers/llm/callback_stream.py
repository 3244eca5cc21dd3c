"""A blocking call that reports through a per-item callback (llama.cpp's streamed chunks), as an async iterator.

A worker of the shared InferencePool makes the call; each item crosses to the
event loop through `loop.call_soon_threadsafe` into an asyncio.Queue. When the
consumer stops iterating (a barge-in cancels it) a flag is set, and the next
item's callback returns True, which tells the callee to stop (llama.cpp then
cancels the task and frees its slot).
"""

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

from agents.pool import InferencePool

_DONE = object()


async def callback_stream(pool: InferencePool, call: Callable[[Callable[[dict], bool]], object],
                          failed: Callable[[BaseException], Exception],
                          ended: asyncio.Event | None = None) -> AsyncIterator[dict]:
    """Run `call(on_item)` on `pool` and yield each item it hands `on_item`. An exception in the call is raised
    here as `failed(exc)`; `ended` is set once the call has returned."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop = threading.Event()

    def soon(callback, *args) -> bool:
        try:
            loop.call_soon_threadsafe(callback, *args)
            return True
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return False

    def deliver(item) -> bool:
        return soon(queue.put_nowait, item)

    def on_item(item: dict) -> bool:
        # Runs on the worker thread for every item; True tells the callee to stop.
        return stop.is_set() or not deliver(item)

    def run() -> None:
        try:
            if not stop.is_set():  # cancelled while queued for a worker
                call(on_item)
        except BaseException as exc:  # handed to the consumer, which raises it on the loop
            deliver(exc)
        finally:
            deliver(_DONE)
            if ended is not None:
                soon(ended.set)

    pool.submit(run)
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise failed(item) from item
            yield item
    finally:
        stop.set()
