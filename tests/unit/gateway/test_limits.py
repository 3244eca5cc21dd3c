"""What one API key may ask of a node: a token bucket of requests a minute, a cap on live sessions."""

import pytest

from gateway.limits import KeyLimiter, TooManyRequests, check_live_sessions


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_allowance_in_a_burst_then_at_its_rate():
    clock = Clock()
    limiter = KeyLimiter(60, clock)  # one a second
    for _ in range(60):
        limiter.take("key_a")
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("key_a")
    assert refused.value.status == 429 and refused.value.retry_after_s == 1
    limiter.take("key_b")  # another key has its own
    clock.now += 1.0
    limiter.take("key_a")  # a second later: one more
    with pytest.raises(TooManyRequests):
        limiter.take("key_a")
    clock.now += 120
    for _ in range(60):  # a quiet while refills it, to the burst size and no more
        limiter.take("key_a")
    with pytest.raises(TooManyRequests):
        limiter.take("key_a")


def test_no_limit_when_set_to_zero():
    limiter = KeyLimiter(0, Clock())
    for _ in range(10_000):
        limiter.take("key_a")


class Live:
    def __init__(self, owner: str) -> None:
        self.record = type("Record", (), {"owner_key_id": owner})()


def test_live_sessions_per_key_count_every_session_but_the_one_reconnecting():
    live = {"conv_1": Live("key_a"), "conv_2": Live("key_a"), "conv_3": Live("key_b")}
    check_live_sessions(live, "key_a", 3, "conv_new")
    with pytest.raises(TooManyRequests):
        check_live_sessions(live, "key_a", 2, "conv_new")
    check_live_sessions(live, "key_a", 2, "conv_1")  # conv_1's stream comes back: it replaces itself
    check_live_sessions(live, "key_a", 0, "conv_new")  # 0: no limit
