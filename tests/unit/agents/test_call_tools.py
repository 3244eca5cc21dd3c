"""Tools that never hang a call: end_call, transfer_call, send_dtmf, cancel_on_interrupt, and key presses in."""

import asyncio

import pytest

from agents import lines
from agents.clock import loop_time
from agents.events import Interruption, SessionEnded, ToolCall, ToolResult, Transcript, TurnStart
from agents.ports import CallControlError
from agents.providers.llm.base import ToolCallStarting
from agents.endings import ENDING_CANCELLED
from agents.reply import INTERRUPTED_TOOL_ERROR, TRANSFER_LINE
from agents.tools.registry import ToolRegistry, tool
from agents.tools.spec import ToolDefinition, normalise_parameters
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, tool_call
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting


def builtin(name: str) -> ToolDefinition:
    d = ToolRegistry().describe(name)
    return ToolDefinition(name, d["description"], d["parameters"])


END_CALL, TRANSFER, SEND_DTMF = builtin("end_call"), builtin("transfer_call"), builtin("send_dtmf")
LOOKUP = ToolDefinition("lookup_order", "Look up an order", normalise_parameters({"order_id": {"type": "string"}}, "tools[0]"))


class FakeControl:
    """Records what the engine asked of the door, and what had been sent and emitted by then."""

    def __init__(self, events: list, frames: list, refuse: str | None = None,
                 fail_transfer: str | None = None) -> None:
        self.calls: list[tuple] = []
        self.events = events
        self.frames = frames
        self.refuse = refuse  # the door cannot do it at all (the api channel)
        self.fail_transfer = fail_transfer  # it tries, and the target is busy
        self.frames_at_transfer = 0
        self.events_at_transfer: list = []

    def check_transfer(self) -> None:
        if self.refuse:
            raise CallControlError(self.refuse)

    async def transfer(self, target: str) -> None:
        self.check_transfer()
        self.calls.append(("transfer", target))
        self.frames_at_transfer = len(self.frames)
        self.events_at_transfer = list(self.events)
        if self.fail_transfer:
            raise CallControlError(self.fail_transfer)

    async def send_dtmf(self, digits: str) -> None:
        if self.refuse:
            raise CallControlError(self.refuse)
        self.calls.append(("send_dtmf", digits))


class Call(Harness):
    def __init__(self, engine, control: bool = True, refuse: str | None = None, fail_transfer: str | None = None,
                 **settings) -> None:
        make = (lambda h: FakeControl(h.events, h.frames, refuse, fail_transfer)) if control else None
        super().__init__(engine, control=make, **{"session_id": "conv_tools", **settings})


@pytest.fixture
async def calls():
    made = []
    yield made.append
    for c in made:
        await c.close()


# -- end_call ----------------------------------------------------------------------------------------


async def test_end_call_says_goodbye_then_ends_the_session_after_the_audio_has_played(calls):
    tts = FakeTTS()
    tts.ms_per_word = 100
    llm = FakeLLM([["Thanks for calling, have a lovely day! ", tool_call("end_call")]])
    c = Call(make_engine(FakeASR(), llm, tts), tools=(END_CALL,))
    calls(c)
    c.conversation.feed_text("That's all, bye.")
    ended = await c.wait_for(lambda e: isinstance(e, SessionEnded))
    await asyncio.wait_for(c.conversation.ended.wait(), 2)
    assert ended.reason == "hangup" and ended.total_turns == 2
    # the model's own goodbye (its first clause said first), nothing more
    assert tts.spoken == ["Thanks for calling,", "have a lovely day!"]
    assert len(llm.calls) == 1  # no second round after end_call
    assert c.control.calls == []  # the door is not asked: it hangs up when the session's end is stored
    # the session ended only after every frame of the goodbye was sent and heard (7 words, 700 ms)...
    frames, at = c.sent_before(ended)
    assert frames == len(c.frames) == 35
    assert round((at - c.first_frame_at) * 1000) == 720  # heard out at 700 ms, seen on the sink's next 40 ms tick
    # ... and after the turn was stored and its turn_end emitted
    assert [e.type for e in c.events][-3:] == ["transcript", "turn_end", "session_ended"]
    turn = c.stored()["turn_002"]
    assert turn.text == "Thanks for calling, have a lovely day!" and not turn.interrupted
    assert turn.tool_calls[0].name == "end_call" and turn.tool_calls[0].error is None
    assert c.types().index("tool_call:") < c.types().index("tool_result:") < c.types().index("turn_end:assistant")


async def test_end_call_without_words_says_the_goodbye_line_and_no_hold_line(calls):
    tts = FakeTTS()
    engine = make_engine(FakeASR(), FakeLLM([[ToolCallStarting(), ToolCallStarting("end_call"), tool_call("end_call")]], delay_s=0.05), tts,
                         goodbye_line="Goodbye from Acme.")
    c = Call(engine, tools=(LOOKUP, END_CALL))  # a look-up tool too: the hint names the tool being called
    calls(c)
    c.conversation.feed_text("bye")
    await c.wait_for(lambda e: isinstance(e, SessionEnded))
    assert tts.spoken == ["Goodbye from Acme."]  # not "Let me look that up."
    assert c.stored()["turn_002"].text == "Goodbye from Acme."


async def test_talking_over_the_goodbye_keeps_the_call_going_and_the_stored_call_says_so(calls):
    long_goodbye = "Goodbye then. " + " ".join(f"Here is farewell sentence {i}." for i in range(10))
    llm = FakeLLM([[long_goodbye, tool_call("end_call")], ["Of course, what else?"]])
    c = Call(make_engine(FakeASR(), llm), tools=(END_CALL,))
    calls(c)
    c.conversation.feed_text("bye")
    await c.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await asyncio.sleep(0.3)
    c.conversation.feed_text("wait, one more thing")
    await c.wait_for(lambda e: isinstance(e, Interruption))
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert not any(isinstance(e, SessionEnded) for e in c.events)
    goodbye = c.stored()["turn_002"]
    assert goodbye.interrupted
    [call] = goodbye.tool_calls
    assert call.name == "end_call" and call.result is None and call.error == ENDING_CANCELLED
    # the next reply is told the call was not ended
    assert any(m.role == "tool" and "call goes on" in m.content for m in llm.calls[1])


async def test_end_call_without_a_door_control_still_ends_the_session(calls):
    c = Call(make_engine(FakeASR(), FakeLLM([["Bye! ", tool_call("end_call")]])), control=False, tools=(END_CALL,))
    calls(c)
    c.conversation.feed_text("bye")
    ended = await c.wait_for(lambda e: isinstance(e, SessionEnded))
    assert ended.reason == "hangup"


# -- transfer_call and send_dtmf ----------------------------------------------------------------------


async def test_transfer_goes_to_the_allowed_target_once_the_line_was_heard_then_the_session_ends(calls):
    llm = FakeLLM([[tool_call("transfer_call", target="+1 (555) 010-0200")]])
    c = Call(make_engine(FakeASR(), llm), tools=(TRANSFER,), transfer_targets=("+15550100200", "sip:desk@pbx"))
    calls(c)
    c.conversation.feed_text("Put me through to a person.")
    ended = await c.wait_for(lambda e: isinstance(e, SessionEnded))
    assert c.control.calls == [("transfer", "+15550100200")]  # the allowed target as configured
    result = next(e for e in c.events if isinstance(e, ToolResult))
    assert result.result == {"transferring": True, "target": "+15550100200"} and result.error is None
    turn = c.stored()["turn_002"]
    assert turn.text == TRANSFER_LINE and not turn.interrupted and len(llm.calls) == 1
    # dialled after every frame of "Transferring your call now." was sent and its turn stored
    assert c.control.frames_at_transfer == len(c.frames) == turn.duration_ms // 20
    assert [e.type for e in c.control.events_at_transfer][-2:] == ["transcript", "turn_end"]
    assert ended.reason == "hangup" and c.events[-1] is ended


async def test_a_transfer_that_does_not_go_through_is_said_and_the_conversation_goes_on(calls):
    llm = FakeLLM([[tool_call("transfer_call", target="sip:desk@pbx")], ["Sure, I can help with that."]])
    c = Call(make_engine(FakeASR(), llm), fail_transfer="the phone system could not reach sip:desk@pbx: 486 Busy Here",
             tools=(TRANSFER,), transfer_targets=("sip:desk@pbx",))
    calls(c)
    c.conversation.feed_text("Put me through to the desk.")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_003")
    assert c.control.calls == [("transfer", "sip:desk@pbx")]
    assert [c.stored()[t].text for t in ("turn_002", "turn_003")] == [TRANSFER_LINE, lines.TRANSFER_FAILED]
    c.conversation.feed_text("Then tell me my balance.")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_005")
    assert c.stored()["turn_005"].text == "Sure, I can help with that."
    assert not any(isinstance(e, SessionEnded) for e in c.events)


async def test_a_failed_transfer_is_said_in_the_sessions_language(calls):
    llm = FakeLLM([[tool_call("transfer_call", target="sip:desk@pbx")]])
    c = Call(make_engine(FakeASR(), llm), fail_transfer="486 Busy Here", tools=(TRANSFER,),
             transfer_targets=("sip:desk@pbx",), language="de")
    calls(c)
    c.conversation.feed_text("Verbinden Sie mich bitte.")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_003")
    assert c.stored()["turn_003"].text == lines.in_language(lines.TRANSFER_FAILED, "de") != lines.TRANSFER_FAILED


async def test_talking_over_the_transfer_line_keeps_the_caller_here(calls):
    long_line = "I will transfer you to our front desk now. " + " ".join(f"Note number {i}." for i in range(10))
    llm = FakeLLM([[long_line, tool_call("transfer_call", target="sip:desk@pbx")], ["Of course, go on."]])
    c = Call(make_engine(FakeASR(), llm), tools=(TRANSFER,), transfer_targets=("sip:desk@pbx",))
    calls(c)
    c.conversation.feed_text("A person please.")
    await c.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await asyncio.sleep(0.3)
    c.conversation.feed_text("no wait, you can help me")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert c.control.calls == []  # nothing dialled
    [call] = c.stored()["turn_002"].tool_calls
    assert call.name == "transfer_call" and call.error == ENDING_CANCELLED


async def test_transfer_to_a_target_not_allowed_is_an_error_result_and_nothing_is_dialled(calls):
    llm = FakeLLM([[tool_call("transfer_call", target="+19005550199")], ["Sorry, I cannot transfer you there."]])
    c = Call(make_engine(FakeASR(), llm), tools=(TRANSFER,), transfer_targets=("+15550100200",))
    calls(c)
    c.conversation.feed_text("Transfer me to +1 900 555 0199.")
    await c.wait_for(assistant_end)
    assert c.control.calls == []
    result = next(e for e in c.events if isinstance(e, ToolResult))
    assert "not an allowed transfer target" in result.error and "+15550100200" in result.error
    assert c.stored()["turn_002"].tool_calls[0].error == result.error
    assert c.stored()["turn_002"].text == "Sorry, I cannot transfer you there."
    assert llm.calls[1][-1].role == "tool" and "not an allowed" in llm.calls[1][-1].content
    assert not any(isinstance(e, SessionEnded) for e in c.events)


async def test_a_door_that_cannot_transfer_or_send_keys_gives_error_results(calls):
    llm = FakeLLM([[tool_call("transfer_call", target="sip:desk@pbx"), tool_call("send_dtmf", digits="12#")],
                   ["I cannot do that here."]])
    c = Call(make_engine(FakeASR(), llm), refuse="not available on the api channel", tools=(TRANSFER, SEND_DTMF),
             transfer_targets=("sip:desk@pbx",))
    calls(c)
    c.conversation.feed_text("Transfer me, then press 1 2 hash.")
    await c.wait_for(assistant_end)
    errors = [e.error for e in c.events if isinstance(e, ToolResult)]
    assert errors == ["not available on the api channel"] * 2
    assert c.stored()["turn_002"].text == "I cannot do that here."  # it never said it was transferring


async def test_send_dtmf_plays_keys_and_refuses_bad_ones(calls):
    llm = FakeLLM([[tool_call("send_dtmf", digits="1234#")], [tool_call("send_dtmf", digits="12x")], ["Done."]])
    c = Call(make_engine(FakeASR(), llm), tools=(SEND_DTMF,))
    calls(c)
    c.conversation.feed_text("Enter my code.")
    await c.wait_for(assistant_end)
    assert c.control.calls == [("send_dtmf", "1234#")]
    results = [e for e in c.events if isinstance(e, ToolResult)]
    assert results[0].result == {"sent": "1234#"}
    assert "invalid arguments" in results[1].error


# -- cancel_on_interrupt -------------------------------------------------------------------------------


def slow_tool(log: list):
    @tool("Search the catalogue", {"type": "object", "properties": {"q": {"type": "string"}}})
    async def search(q: str) -> dict:
        log.append("started")
        try:
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            log.append("cancelled")
            raise
        log.append("finished")
        return {"hits": 3}

    return search


def search_definition(cancel: bool) -> ToolDefinition:
    return ToolDefinition("search", "Search the catalogue",
                          normalise_parameters({"q": {"type": "string", "required": True}}, "tools[0]"),
                          cancel_on_interrupt=cancel)


@pytest.mark.parametrize("cancel", [False, True])
async def test_barge_in_during_a_tool_call_honours_cancel_on_interrupt(calls, cancel):
    happened: list[str] = []
    llm = FakeLLM([[tool_call("search", q="red shoes")], ["Okay, never mind."]])
    engine = make_engine(FakeASR(), llm, handlers={"search": slow_tool(happened)}, hold_after_ms=100)
    c = Call(engine, tools=(search_definition(cancel),))
    calls(c)
    c.conversation.feed_text("Find red shoes.")
    await c.wait_for(lambda e: isinstance(e, ToolCall))
    await c.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")  # the hold line
    interrupted_at = loop_time()
    c.conversation.feed_text("Actually, forget it.")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    stored = c.stored()["turn_002"]
    assert stored.interrupted and len(stored.tool_calls) == 1
    result = next(e for e in c.events if isinstance(e, ToolResult))
    answer_started = next(e for e in c.events if isinstance(e, TurnStart) and e.turn_id == "turn_004")
    assert c.events.index(result) < c.events.index(answer_started)
    searching = next(e for e in c.events if isinstance(e, ToolCall))
    answer_at, search_at = c.sent_before(answer_started)[1], c.sent_before(searching)[1]
    # cancelled: the answer starts as the caller stops talking; kept: once the 1 s search is over
    assert round((answer_at - (interrupted_at if cancel else search_at + 1.0)) * 1000) == 0
    context = llm.calls[-1]
    tool_message = next(m for m in context if m.role == "tool")
    if cancel:
        assert happened == ["started", "cancelled"]
        assert result.error == INTERRUPTED_TOOL_ERROR and stored.tool_calls[0].error == INTERRUPTED_TOOL_ERROR
        assert "cancelled" in tool_message.content  # the model knows the search never finished
    else:
        assert happened == ["started", "finished"]  # ran once, to the end
        assert result.result == {"hits": 3} and stored.tool_calls[0].result == {"hits": 3}
        assert '"hits": 3' in tool_message.content
    assert len([e for e in c.events if isinstance(e, ToolCall)]) == 1


# -- key presses in ---------------------------------------------------------------------------------


async def test_keys_ending_with_hash_make_a_user_turn_at_once(calls):
    llm = FakeLLM([["Thanks, checking order 1234."]])
    c = Call(make_engine(FakeASR(), llm, dtmf_pause_ms=5000))
    calls(c)
    for key in "1234#":
        c.conversation.feed_dtmf(key)
    await c.wait_for(assistant_end, timeout=2)  # well before the 5 s pause
    assert c.types()[:3] == ["turn_start:user", "transcript:user", "turn_end:user"]
    transcript = next(e for e in c.events if isinstance(e, Transcript) and e.role == "user")
    assert transcript.text == "caller pressed 1234#" and transcript.is_final
    assert c.stored()["turn_001"].text == "caller pressed 1234#" and c.stored()["turn_001"].role == "user"
    assert llm.calls[0][-1].role == "user" and llm.calls[0][-1].content == "caller pressed 1234#"


async def test_keys_without_hash_become_a_turn_after_the_pause(calls):
    c = Call(make_engine(FakeASR(), FakeLLM([["You chose option 2."]]), dtmf_pause_ms=300))
    calls(c)
    c.conversation.feed_dtmf("2")
    await asyncio.sleep(0.2)
    c.conversation.feed_dtmf("*")  # another key restarts the pause
    await asyncio.sleep(0.2)
    assert not c.events
    turn_start = await c.wait_for(lambda e: isinstance(e, TurnStart), timeout=2)
    assert turn_start.role == "user"
    await c.wait_for(assistant_end)
    assert c.stored()["turn_001"].text == "caller pressed 2*"


async def test_a_key_press_interrupts_the_assistant(calls):
    long_reply = " ".join(f"Menu option {i} does something useful." for i in range(1, 15))
    llm = FakeLLM([[long_reply], ["Connecting you to billing."]])
    c = Call(make_engine(FakeASR(), llm))
    calls(c)
    c.conversation.feed_text("What are my options?")
    await c.wait_for(lambda e: isinstance(e, TurnStart) and e.role == "assistant")
    await asyncio.sleep(0.3)
    c.conversation.feed_dtmf("3")
    cut = await c.wait_for(lambda e: isinstance(e, Interruption), timeout=1)
    assert cut.turn_id == "turn_002" and 0 < cut.played_ms < 1500
    c.conversation.feed_dtmf("#")
    await c.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert c.stored()["turn_003"].text == "caller pressed 3#"
    assert c.stored()["turn_002"].interrupted


async def test_a_bad_key_is_refused(calls):
    c = Call(make_engine(FakeASR(), FakeLLM()))
    calls(c)
    with pytest.raises(ValueError, match="not a DTMF key"):
        c.conversation.feed_dtmf("x")
