"""One clock for every SIP call's caller audio."""

import asyncio
import contextvars

import structlog

from sip.pump import InboundPump


class Call:
    def __init__(self, name: str, fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.ticks: list[str | None] = []
        self.detached = False
        structlog.contextvars.bind_contextvars(call_id=name)
        self.context = contextvars.copy_context()
        structlog.contextvars.clear_contextvars()

    def deliver(self) -> None:
        if self.fail:
            raise RuntimeError("engine bug")
        self.ticks.append(structlog.contextvars.get_contextvars().get("call_id"))

    def detach(self) -> None:
        self.detached = True


async def test_every_call_is_drained_every_tick_in_its_own_log_context():
    pump = InboundPump()
    first, second, broken = Call("a"), Call("b"), Call("c", fail=True)
    for call in (first, second, broken):
        pump.add(call)
    await asyncio.sleep(0.2)
    assert 7 <= len(first.ticks) <= 12 and abs(len(first.ticks) - len(second.ticks)) <= 1
    assert set(first.ticks) == {"a"} and set(second.ticks) == {"b"}
    assert broken.detached and len(pump) == 2  # one call's failure stops its audio, not everyone's
    pump.discard(first)
    pump.discard(second)
    await asyncio.sleep(0.05)
    assert len(pump) == 0
    await pump.aclose()
