"""What one API key may ask of this node ([limits]): requests a minute, live sessions at once. Each node counts
its own (with several nodes behind a load balancer, a key gets each node's allowance)."""

import math
import time
from collections.abc import Callable

from agents.errors import RateLimited


class TooManyRequests(RateLimited):
    """429 with the seconds to wait (the Retry-After header)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = max(1, math.ceil(retry_after_s))


class KeyLimiter:
    """A token bucket per key: `per_minute` requests a minute, in bursts of up to as many. 0: no limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, when counted)

    def take(self, key_id: str) -> None:
        """One request by `key_id`; TooManyRequests if its allowance is spent."""
        if self.per_minute <= 0:
            return
        now, rate = self._clock(), self.per_minute / 60.0
        tokens, then = self._buckets.get(key_id, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - then) * rate)
        if tokens < 1.0:
            self._buckets[key_id] = (tokens, now)
            raise TooManyRequests(f"more than {self.per_minute} requests a minute with this API key",
                                  (1.0 - tokens) / rate)
        self._buckets[key_id] = (tokens - 1.0, now)
        if len(self._buckets) > 10_000:  # keys not seen for a minute are full again: forget them
            self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 60.0}


def check_live_sessions(live: dict, key_id: str | None, most: int, opening: str) -> None:
    """TooManyRequests if `key_id` already holds `most` live sessions on this node besides `opening` (a stream
    reconnecting replaces its old connection: not one more). 0: no limit."""
    if most <= 0 or key_id is None:
        return
    held = sum(1 for sid, session in live.items() if session.record.owner_key_id == key_id and sid != opening)
    if held >= most:
        raise TooManyRequests(f"this API key already holds {held} live sessions on this gateway (limit {most})", 5)
