"""A reply begun in the caller's pause: heard only if the turn ends on the words it answers."""

import asyncio
import re

import pytest

from agents.events import Interruption, ToolCall, TurnEnd, TurnStart
from agents.providers.llm.base import TextDelta
from agents.tools.registry import tool
from agents.tools.spec import ToolDefinition, normalise_parameters
from tests.fakes.engine import FakeASR, FakeASRStream, make_engine, tool_call
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting


class StepASR(FakeASR):
    """One utterance whose transcript grows: each pause's transcript is the next of `steps`."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__()
        self.steps = list(steps)

    def open(self, language: str, sample_rate: int = 16000, vocabulary=()) -> FakeASRStream:
        asr = self

        class Stream(FakeASRStream):
            async def so_far(self, quick: bool = False) -> str:
                await asyncio.sleep(0.01)
                return asr.steps.pop(0) if len(asr.steps) > 1 else asr.steps[0]

            async def final(self) -> str:
                return asr.steps[-1]

        stream = Stream(self)
        self.streams.append(stream)
        return stream


class EchoLLM:
    """Answers "You said: <the caller's last words>", slowly; or a look-up of the last four-digit number the caller gave.
    Notes what had happened when it was asked (`seen`: the events so far)."""

    name = "echo"

    def __init__(self, delay_s: float = 0.05) -> None:
        self.events: list = []  # the harness's, once it exists
        self.delay_s = delay_s
        self.asked: list[tuple[str, list]] = []

    async def reply(self, messages, tools, options):
        last = messages[-1]
        if last.role == "tool":
            yield TextDelta("Found it.")
            return
        self.asked.append((last.content, list(self.events)))
        numbers = re.findall(r"\d{4}", last.content)
        await asyncio.sleep(self.delay_s)
        if numbers and tools:
            yield tool_call("lookup_order", order_id=numbers[-1])
            return
        yield TextDelta(f"You said: {last.content}")


class Recorded(Harness):
    """Also notes how many audio frames had gone out when each event was emitted."""

    def __init__(self, engine, **settings) -> None:
        self.frames_at: list[int] = []
        super().__init__(engine, **settings)
        self.conversation.emit = self._emit

    def _emit(self, event) -> None:
        self.frames_at.append(len(self.frames))
        self.events.append(event)


def user_end(e) -> bool:
    return isinstance(e, TurnEnd) and e.role == "user"


def engine(asr, llm, **options):
    return make_engine(asr, llm, endpoint_min_ms=200, hangover_ms=500, endpoint_max_ms=1500, speculate=True,
                       **options)


async def test_the_reply_starts_in_the_pause_and_is_heard_once_the_turn_ends(closing):
    llm = EchoLLM()
    h = Recorded(engine(FakeASR(["hello there"]), llm))  # no full stop: the usual 500 ms wait
    closing(h)
    events = llm.events = h.events
    await h.say(ms=500, pause_ms=900, realtime=True)
    await h.wait_for(assistant_end)
    [(asked, seen)] = llm.asked  # asked once, and before the caller's turn was over
    assert asked == "hello there" and not any(user_end(e) for e in seen)
    ended = next(i for i, e in enumerate(events) if user_end(e))
    started = next(i for i, e in enumerate(events) if isinstance(e, TurnStart) and e.role == "assistant")
    assert ended < started and h.frames_at[ended] == 0  # nothing was heard before the turn ended
    reply = h.stored()["turn_002"]
    assert reply.text == "You said: hello there" and not reply.interrupted
    assert reply.latency_ms == reply.endpoint_ms == 500  # counted from the end of speech, as always


async def test_a_caller_who_goes_on_never_hears_the_reply_to_half_a_sentence(closing):
    llm = EchoLLM(delay_s=0.0)
    h = Recorded(engine(StepASR(["I want to know", "I want to know about shipping."]), llm))
    closing(h)
    events = llm.events = h.events
    await h.say(ms=500, pause_ms=350, realtime=True)  # a pause that does not end the turn
    await h.say(ms=500, pause_ms=900, realtime=True)
    await h.wait_for(assistant_end)
    assert [asked for asked, _ in llm.asked] == ["I want to know", "I want to know about shipping."]
    stored = [(t.turn_id, t.role, t.text) for _, t in h.store.turns]
    assert stored == [("turn_001", "user", "I want to know about shipping."),
                      ("turn_002", "assistant", "You said: I want to know about shipping.")]
    assert sum(isinstance(e, TurnStart) and e.role == "assistant" for e in events) == 1
    assert h.conversation.history.next_turn_id() == "turn_003"  # no id spent on the dropped reply


async def test_a_tool_runs_only_for_the_turn_as_it_ended(closing):
    looked_up: list[str] = []

    @tool("Look up an order", {"type": "object", "properties": {"order_id": {"type": "string"}}})
    async def lookup_order(order_id: str) -> dict:
        looked_up.append(order_id)
        return {"status": "shipped"}

    llm = EchoLLM(delay_s=0.0)
    lookup = ToolDefinition("lookup_order", "Look up an order",
                            normalise_parameters({"order_id": {"type": "string"}}, "tools[0]"))
    h = Recorded(engine(StepASR(["Order 1234", "Order 1234, no, 5678."]), llm,
                        handlers={"lookup_order": lookup_order}), tools=(lookup,))
    closing(h)
    events = llm.events = h.events
    await h.say(ms=500, pause_ms=400, realtime=True)  # "Order 1234" ... digits: a long wait, and a look-up begun
    assert not looked_up and not any(isinstance(e, ToolCall) for e in events)  # behind the gate
    await h.say(ms=500, pause_ms=900, realtime=True)
    await h.wait_for(assistant_end)
    assert looked_up == ["5678"]
    assert [e.arguments for e in events if isinstance(e, ToolCall)] == [{"order_id": "5678"}]


async def test_a_reply_waiting_in_a_pause_ends_with_the_session():
    h = Harness(engine(FakeASR(["hello there"]), EchoLLM(delay_s=0.0)))
    events = h.events
    await h.say(ms=500, pause_ms=300, realtime=True)  # in the pause: speculated, not ended
    assert any(t.get_name().startswith("speculation-") and not t.done() for t in asyncio.all_tasks())
    await h.close()
    assert not any(t.get_name().startswith("speculation-") and not t.done() for t in asyncio.all_tasks())
    assert not any(isinstance(e, TurnStart) and e.role == "assistant" for e in events)


async def test_an_adopted_reply_is_cut_by_a_barge_in_like_any_other(closing):
    long_answer = " ".join(f"Sentence number {i} is here." for i in range(1, 13))

    class Talkative(EchoLLM):
        async def reply(self, messages, tools, options):
            self.asked.append((messages[-1].content, list(self.events)))
            yield TextDelta(long_answer)

    llm = Talkative()
    h = Harness(engine(FakeASR(["hello there", "Stop."]), llm))
    closing(h)
    llm.events = h.events
    await h.say(ms=500, pause_ms=900, realtime=True)
    await h.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await h.say(ms=800, pause_ms=600, realtime=True)  # long enough to be an interruption at once
    end = await h.wait_for(assistant_end)
    assert end.interrupted and any(isinstance(e, Interruption) for e in h.events)
    reply = h.stored()["turn_002"]
    assert reply.interrupted and reply.text and long_answer.startswith(reply.text) and reply.text != long_answer
