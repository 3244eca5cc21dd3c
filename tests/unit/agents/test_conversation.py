"""The conversation engine with scripted providers: turn order, tools, barge-in, limits, context."""

import asyncio

import pytest

from agents.clock import loop_time
from agents.events import Interruption, SessionEnded, ToolCall, ToolResult, Transcript, TurnEnd, TurnStart
from agents.tools.registry import tool
from agents.tools.spec import ToolDefinition, normalise_parameters
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, speech, tool_call
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting

LOOKUP = ToolDefinition("lookup_order", "Look up an order",
                        normalise_parameters({"order_id": {"type": "string", "required": True}}, "tools[0]"))


@tool("Look up an order", {"type": "object", "properties": {"order_id": {"type": "string"}}})
async def lookup_order(order_id: str) -> dict:
    return {"order_id": order_id, "status": "shipped"} if order_id == "1234" else {"found": False}


async def test_spoken_turn_with_tool_call_events_in_order_and_stored(closing):
    asr = FakeASR(["What is the status of order 1234?"])
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["Your order 1234 ", "has shipped. ", "Anything else?"]])
    tts = FakeTTS()
    h = Harness(make_engine(asr, llm, tts, {"lookup_order": lookup_order}), tools=(LOOKUP,))
    closing(h)
    await h.say()
    await h.wait_for(assistant_end)
    assert h.types() == [
        "turn_start:user", "transcript:user", "turn_end:user", "tool_call:", "tool_result:",
        "turn_start:assistant", "transcript:assistant", "turn_end:assistant",
    ]
    user_start, call, result, start = h.events[0], h.events[3], h.events[4], h.events[5]
    assert user_start.turn_id == "turn_001" and start.turn_id == "turn_002"
    assert isinstance(call, ToolCall) and call.arguments == {"order_id": "1234"} and call.turn_id == "turn_002"
    assert isinstance(result, ToolResult) and result.result == {"order_id": "1234", "status": "shipped"}
    assert isinstance(start, TurnStart) and start.latency_ms == 210  # the 200 ms end-of-turn wait + the ASR's 10 ms
    assert tts.spoken == ["Your order 1234 has shipped.", "Anything else?"]
    final = [e for e in h.events if isinstance(e, Transcript) and e.role == "assistant"][0]
    assert final.text == "Your order 1234 has shipped. Anything else?" and final.is_final
    stored = [turn for _, turn in h.store.turns]
    assert [(t.turn_id, t.role) for t in stored] == [("turn_001", "user"), ("turn_002", "assistant")]
    assert stored[1].tool_calls[0].result["status"] == "shipped" and not stored[1].interrupted
    assert stored[1].latency_ms == start.latency_ms and stored[1].llm_first_token_ms is not None
    # the second LLM call saw the tool result
    assert llm.calls[1][-1].role == "tool" and "shipped" in llm.calls[1][-1].content
    assert h.frames, "speech was sent to the sink"


async def test_each_turn_is_committed_before_its_turn_end(closing):
    seen_at_turn_end = []
    h = Harness(make_engine(FakeASR(["hello"]), FakeLLM([["Hi there."]])))
    closing(h)
    original = h.events.append

    def spy(event):
        if isinstance(event, TurnEnd):
            seen_at_turn_end.append((event.turn_id, [t.turn_id for _, t in h.store.turns]))
        original(event)

    h.conversation.emit = spy
    await h.say()
    await h.wait_for(assistant_end)
    for turn_id, committed in seen_at_turn_end:
        assert turn_id in committed


async def test_typed_text_is_a_user_turn(closing):
    llm = FakeLLM([["Sure."]])
    h = Harness(make_engine(FakeASR(), llm))
    closing(h)
    h.conversation.feed_text("Hello there")
    await h.wait_for(assistant_end)
    assert h.types()[:3] == ["turn_start:user", "transcript:user", "turn_end:user"]
    assert llm.calls[0][-1].content == "Hello there"


async def test_barge_in_cuts_reply_and_history_keeps_only_what_was_heard(closing):
    long_reply = " ".join(f"Sentence number {i} is here." for i in range(1, 21))  # ~2 s of fake speech a sentence set
    asr = FakeASR(["tell me a story", "stop"])
    llm = FakeLLM([[long_reply], ["Okay."]])
    h = Harness(make_engine(asr, llm), )
    closing(h)
    await h.say()
    await h.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await asyncio.sleep(0.5)
    await h.say(ms=300, pause_ms=300)  # the caller talks over the reply
    cut = await h.wait_for(lambda e: isinstance(e, Interruption))
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert cut.played_ms == 540  # to the frame: the half second the test let it play, and the frames in flight
    assert cut.text and long_reply.startswith(cut.text) and len(cut.text) < len(long_reply)
    order = h.types()
    i = order.index("interruption:")
    assert order[i + 1:i + 4] == ["transcript:assistant", "turn_end:assistant", "turn_start:user"]
    interrupted_end = next(e for e in h.events if assistant_end(e))
    assert interrupted_end.interrupted
    stored = {t.turn_id: t for _, t in h.store.turns}
    assert stored["turn_002"].interrupted and stored["turn_002"].text == cut.text
    # the next reply's context holds the cut text, not the planned one
    assistant_messages = [m.content for m in llm.calls[1] if m.role == "assistant"]
    assert assistant_messages == [cut.text]
    # after the cut, no more than the sink's lead of old audio went out
    assert stored["turn_002"].duration_ms == cut.played_ms


async def test_max_turns_ends_session_after_the_turn_that_reaches_it(closing):
    h = Harness(make_engine(FakeASR(["hi"]), FakeLLM([["Hello!"]])), max_turns=2)
    closing(h)
    await h.say()
    ended = await h.wait_for(lambda e: isinstance(e, SessionEnded))
    assert ended.reason == "max_turns" and ended.total_turns == 2
    assert h.types()[-2:] == ["turn_end:assistant", "session_ended:"]
    assert h.conversation.ended.is_set()
    h.conversation.feed_text("more?")  # ignored after the end
    await asyncio.sleep(0.05)
    assert h.types()[-1] == "session_ended:"


async def test_context_window_keeps_only_the_last_turns(closing):
    llm = FakeLLM([["one."], ["two."], ["three."]])
    h = Harness(make_engine(FakeASR(), llm), context_window=3)
    closing(h)
    for text in ("first", "second", "third"):
        h.conversation.feed_text(text)
        n = len([e for e in h.events if assistant_end(e)]) + 1
        await h.wait_for(lambda e, n=n: assistant_end(e) and e.turn_id == f"turn_{2 * n:03d}")
    last = llm.calls[-1]
    assert last[0].role == "system" and last[0].content == "Be brief."
    assert [(m.role, m.content) for m in last[1:]] == [("user", "second"), ("assistant", "two."), ("user", "third")]


async def test_greeting_is_spoken_first(closing):
    tts = FakeTTS()
    h = Harness(make_engine(FakeASR(), FakeLLM(), tts), greeting="Hello, this is Acme. How can I help?")
    closing(h)
    await h.wait_for(assistant_end)
    assert tts.spoken[0].startswith("Hello, this is Acme.")
    assert h.store.turns[0][1].role == "assistant" and h.store.turns[0][1].turn_id == "turn_001"


async def test_bad_tool_arguments_and_unknown_tools_become_error_results(closing):
    llm = FakeLLM([[tool_call("lookup_order", order_id=["12", "34"]), tool_call("delete_everything")],
                   ["Sorry, I could not look that up."]])
    h = Harness(make_engine(FakeASR(), llm, handlers={"lookup_order": lookup_order}), tools=(LOOKUP,))
    closing(h)
    h.conversation.feed_text("order 1234")
    await h.wait_for(assistant_end)
    results = [e for e in h.events if isinstance(e, ToolResult)]
    assert "invalid arguments" in results[0].error and "is not of type 'string'" in results[0].error
    assert "no tool named delete_everything" in results[1].error
    assert [e.role for e in h.events if isinstance(e, TurnEnd)] == ["user", "assistant"]


async def test_failing_and_slow_tools_do_not_end_the_call(closing):
    async def broken(order_id: str) -> dict:
        raise RuntimeError("database down")

    async def slow(order_id: str) -> dict:
        await asyncio.sleep(10)
        return {}

    for handler, expected in ((broken, "failed: RuntimeError"), (slow, "did not answer")):
        llm = FakeLLM([[tool_call("lookup_order", order_id="1")], ["Sorry."]])
        h = Harness(make_engine(FakeASR(), llm, handlers={"lookup_order": handler}, tool_timeout_s=0.2),
                    tools=(LOOKUP,))
        closing(h)
        h.conversation.feed_text("order 1")
        await h.wait_for(assistant_end)
        result = next(e for e in h.events if isinstance(e, ToolResult))
        assert expected in result.error


async def test_noise_with_an_empty_transcript_is_not_a_turn(closing):
    llm = FakeLLM()
    h = Harness(make_engine(FakeASR([""]), llm))
    closing(h)
    await h.say()
    await h.wait_for(lambda e: isinstance(e, TurnEnd))
    await asyncio.sleep(0.1)
    assert not h.store.turns and not llm.calls


async def test_partial_transcripts_while_speaking(closing):
    h = Harness(make_engine(FakeASR(["what is the time"]), FakeLLM(), partial_interval_ms=100))
    closing(h)
    for i in range(0, len(speech(600)), 640):
        h.conversation.feed_audio(speech(600)[i:i + 640])
        await asyncio.sleep(0.01)
    partial = await h.wait_for(lambda e: isinstance(e, Transcript) and not e.is_final)
    assert partial.text == "what is" and partial.role == "user"


async def test_delete_ends_with_session_ended_deleted(closing):
    h = Harness(make_engine(FakeASR(), FakeLLM([["A long answer. " * 5]])))
    closing(h)
    h.conversation.feed_text("hi")
    await h.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await h.conversation.end("deleted")
    assert h.types()[-1] == "session_ended:" and h.events[-1].reason == "deleted"


async def test_an_empty_llm_reply_still_answers_the_caller(closing):
    from agents.reply import EMPTY_REPLY_FALLBACK

    tts = FakeTTS()
    h = Harness(make_engine(FakeASR(), FakeLLM([[""]]), tts))
    closing(h)
    h.conversation.feed_text("Say hello.")
    end = await h.wait_for(assistant_end)
    assert tts.spoken == [EMPTY_REPLY_FALLBACK]
    assert h.store.turns[-1][1].text == EMPTY_REPLY_FALLBACK and end.turn_id == "turn_002"


@pytest.mark.parametrize("clock_offset_s", [0.0, 123456.789, 1e9 + 0.789])
async def test_a_silent_session_ends_with_idle_timeout(closing, clock_offset_s):
    # Whatever the clock reads: on a large reading its float arithmetic left the idle watcher a few 1e-11 s
    # to wait, forever (found in CI, where the loop's clock had run on from the integration tests).
    clock = lambda: loop_time() + clock_offset_s  # noqa: E731
    h = Harness(make_engine(FakeASR(), FakeLLM([["Hi."]]), idle_timeout_s=0.6, clock=clock))
    closing(h)
    h.conversation.feed_text("hello")  # activity, and a reply, push the deadline out
    await h.wait_for(assistant_end)
    assert not h.conversation.ended.is_set()
    ended = await h.wait_for(lambda e: isinstance(e, SessionEnded), timeout=3)
    assert ended.reason == "idle_timeout" and ended.total_turns == 2


async def test_a_caller_who_keeps_talking_is_not_idle(closing):
    h = Harness(make_engine(FakeASR(["a", "b", "c"]), FakeLLM([["One."], ["Two."], ["Three."]]), idle_timeout_s=0.8))
    closing(h)
    for _ in range(3):
        await h.say(ms=300, pause_ms=300)
        await asyncio.sleep(0.3)
    assert not any(isinstance(e, SessionEnded) for e in h.events)


async def test_a_slow_tool_gets_a_hold_line_then_the_answer(closing):
    async def slow_lookup(order_id: str) -> dict:
        await asyncio.sleep(0.5)
        return {"order_id": order_id, "status": "shipped"}

    tts = FakeTTS()
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["It shipped."]])
    h = Harness(make_engine(FakeASR(), llm, tts, {"lookup_order": slow_lookup}, hold_after_ms=100), tools=(LOOKUP,))
    closing(h)
    h.conversation.feed_text("Where is order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["Let me look that up.", "It shipped."]
    start = next(e for e in h.events if isinstance(e, TurnStart) and e.role == "assistant")
    result_at = h.types().index("tool_result:")
    assert h.types().index("turn_start:assistant") < result_at  # the caller heard something while waiting
    stored = h.store.turns[-1][1]
    assert stored.text == "Let me look that up. It shipped."
    # latency_ms is the hold line's, said while the 0.5 s look-up ran; the answer itself came after it
    assert stored.latency_ms == start.latency_ms < stored.answer_latency_ms
    assert stored.answer_latency_ms == 500


async def test_a_fast_tool_gets_no_hold_line(closing):
    tts = FakeTTS()
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["It shipped."]])
    h = Harness(make_engine(FakeASR(), llm, tts, {"lookup_order": lookup_order}), tools=(LOOKUP,))
    closing(h)
    h.conversation.feed_text("Where is order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["It shipped."]
    stored = h.store.turns[-1][1]
    assert stored.answer_latency_ms == stored.latency_ms  # no hold line: the first audio is the answer


async def test_barge_in_during_a_tool_keeps_its_result_and_does_not_run_it_twice(closing):
    calls = []

    async def slow_lookup(order_id: str) -> dict:
        calls.append(order_id)
        await asyncio.sleep(0.5)
        return {"order_id": order_id, "status": "shipped"}

    asr = FakeASR(["where is order 1234", "actually never mind"])
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["Okay."]])
    h = Harness(make_engine(asr, llm, handlers={"lookup_order": slow_lookup}, hold_after_ms=5000), tools=(LOOKUP,))
    closing(h)
    await h.say()
    await h.wait_for(lambda e: isinstance(e, ToolCall))
    await h.say(ms=300, pause_ms=300)  # the caller talks while the tool runs
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert calls == ["1234"]
    stored = {t.turn_id: t for _, t in h.store.turns}
    assert stored["turn_002"].interrupted and stored["turn_002"].tool_calls[0].result["status"] == "shipped"
    assert any(isinstance(e, ToolResult) and e.turn_id == "turn_002" for e in h.events)
    # the next reply's context holds the call and its result
    last = llm.calls[-1]
    assert any(m.role == "tool" and "shipped" in m.content for m in last)


async def test_hold_line_starts_as_soon_as_the_model_starts_a_tool_call(closing):
    from agents.providers.llm.base import ToolCallStarting

    tts = FakeTTS()
    llm = FakeLLM([[ToolCallStarting("lookup_order"), tool_call("lookup_order", order_id="1234")], ["It shipped."]],
                  delay_s=0.3)  # the model takes a while to write the call
    h = Harness(make_engine(FakeASR(), llm, tts, {"lookup_order": lookup_order}), tools=(LOOKUP,))
    closing(h)
    h.conversation.feed_text("Where is order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["Let me look that up.", "It shipped."]
    order = h.types()
    assert order.index("turn_start:assistant") < order.index("tool_call:")  # heard before the call was complete


async def test_the_agents_own_lines_are_in_the_session_language(closing):
    async def slow_lookup(order_id: str) -> dict:
        await asyncio.sleep(0.3)
        return {"order_id": order_id, "status": "shipped"}

    tts = FakeTTS()
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["Sie wurde versandt."], [""]])
    h = Harness(make_engine(FakeASR(), llm, tts, {"lookup_order": slow_lookup}, hold_after_ms=100), tools=(LOOKUP,),
                language="de")
    closing(h)
    h.conversation.feed_text("Wo ist Bestellung 1234?")
    await h.wait_for(assistant_end)
    h.conversation.feed_text("Hallo?")
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert tts.spoken == ["Einen Moment, ich sehe nach.", "Sie wurde versandt.",
                          "Entschuldigung, können Sie das bitte wiederholen?"]


async def test_a_store_that_keeps_failing_ends_the_session_with_error(closing):
    h = Harness(make_engine(llm=FakeLLM([["One."], ["Two."], ["Three."]])))
    closing(h)

    async def broken(session_id, turn):
        raise OSError("disk full")

    h.store.save_turn = broken
    h.conversation.feed_text("first")
    await h.wait_for(lambda e: e.type == "error")
    assert not h.conversation.ended.is_set()  # one failed turn: the call goes on
    h.conversation.feed_text("second")
    h.conversation.feed_text("third")
    ended = await h.wait_for(lambda e: isinstance(e, SessionEnded))
    assert ended.reason == "error" and h.conversation.ended.is_set()
    assert [e.code for e in h.events if e.type == "error"] == ["internal"] * 3


async def test_a_turn_without_a_pause_ends_at_the_longest_turn_and_is_answered_at_the_first_pause(closing):
    asr = FakeASR(["I have been talking for a long time", "and I am still going"])
    llm = FakeLLM([["I hear you."]])
    h = Harness(make_engine(asr, llm, max_turn_ms=1000), tools=())
    closing(h)
    await h.say(ms=1500, pause_ms=300)  # 1.5 s without a pause, then one
    await h.wait_for(assistant_end)
    ends = [e for e in h.events if isinstance(e, TurnEnd) and e.role == "user"]
    assert ends[0].duration_ms == 1000  # ended at the limit, not at a pause that had not come
    assert len(ends) == 2  # the caller went on: a second turn, ended by the pause
    # one reply, to both parts (the first part's reply was superseded while the caller still talked)
    assert len(llm.calls) == 1 and [m.content for m in llm.calls[0] if m.role == "user"] == [
        "I have been talking for a long time", "and I am still going"]
