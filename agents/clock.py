"""The engine's one clock: the running event loop's time.

asyncio's loop reads `time.monotonic()` and uvloop's (server.event_loop) the same CLOCK_MONOTONIC to the
millisecond, so in a gateway this is the same clock; its worth is in tests,
where the loop may run on virtual time (looptime): sleeps, timeouts and every duration the engine
measures then move together, exactly, and take no real time.
"""

import asyncio
import time


def loop_time() -> float:
    """Seconds on the running loop's clock (time.monotonic() when called with no loop running)."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
