"""One clock for every call's caller audio: each tick, every attached call hands its frames to its conversation.

SPEC §11: no task, queue hop or wake-up per frame. The clock thread only
appends frames to a deque (sip/bridge.py); this one task, on the loop,
drains all calls every bridge frame (20 ms, or sip.frame_ms) with plain
function calls (resample -> VAD -> engine state), so the cost per frame is
those calls and nothing else.
"""

import asyncio
import contextvars
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class Drained(Protocol):
    context: contextvars.Context  # the call's log context (channel, call_id, session_id): deliver runs in it

    def deliver(self) -> None:
        """Feed the frames that arrived since the last tick to the conversation."""

    def detach(self) -> None:
        """Stop taking audio (its delivery failed)."""


class InboundPump:
    def __init__(self, tick_s: float = 0.02) -> None:
        self.tick_s = tick_s  # how often caller audio arrives: sooner finds nothing
        self._calls: set[Drained] = set()
        self._task: asyncio.Task | None = None

    def add(self, call: Drained) -> None:
        self._calls.add(call)
        if self._task is None or self._task.done():
            # A context of its own: not the one of the call that happened to start it.
            self._task = asyncio.create_task(self._run(), name="sip-inbound", context=contextvars.Context())

    def discard(self, call: Drained) -> None:
        self._calls.discard(call)

    def __len__(self) -> int:
        return len(self._calls)

    async def aclose(self) -> None:
        self._calls.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_tick = loop.time()
        while self._calls:
            for call in list(self._calls):
                try:
                    call.context.run(call.deliver)
                except Exception:  # one call's failure must not stop everyone's audio
                    log.exception("sip_inbound_failed")
                    self._calls.discard(call)
                    call.detach()
            next_tick += self.tick_s
            delay = next_tick - loop.time()
            if delay < -self.tick_s:  # the loop was held up: catch up once, do not spin
                next_tick = loop.time()
                delay = 0
            await asyncio.sleep(max(0.0, delay))
