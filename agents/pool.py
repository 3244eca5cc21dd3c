"""Bounded worker pools for blocking model inference, shared by every session of a process.

Blocking calls (CTranslate2, llama.cpp, onnxruntime) release the GIL, so
threads give real parallelism; the bound keeps a burst of calls from
oversubscribing the CPU. One pool per model kind, so that a long LLM reply
never queues an ASR final behind it. Never a thread per call (SPEC §11).
"""

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class InferencePool:
    def __init__(self, name: str, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"a pool needs at least one worker, got {workers}")
        self.name = name
        self.workers = workers
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"parley-{name}")

    async def run(self, fn: Callable[..., T], *args, **kwargs) -> T:
        """Run `fn(*args, **kwargs)` on a worker; the caller's log context goes with it."""
        loop = asyncio.get_running_loop()
        ctx = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, functools.partial(ctx.run, fn, *args, **kwargs))

    def submit(self, fn: Callable[..., T], *args, **kwargs):
        """Start `fn` on a worker without awaiting it (streaming producers); returns a concurrent Future."""
        ctx = contextvars.copy_context()
        return self._executor.submit(ctx.run, fn, *args, **kwargs)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
