"""Reply with the guard: refused first sentences regenerate once, then a safe line; later ones end the reply;
a call missing a value asks the caller instead of running; garbage gets the fallback line."""

import pytest
from structlog.testing import capture_logs

from agents import lines
from agents.events import ToolCall, ToolResult, TurnEnd
from agents.providers.llm.base import Message
from agents.reply import EMPTY_REPLY_FALLBACK, GUARDED_FALLBACK, RETRY_NOTE, TOOL_FAILED_FALLBACK
from agents.tools.registry import ToolRegistry, tool
from agents.tools.spec import ToolDefinition
from tests.fakes.engine import FakeASR, FakeLLM, FakeTTS, make_engine, tool_call
from tests.fakes.harness import Harness, assistant_end

pytestmark = pytest.mark.looptime  # the engine on a virtual loop clock: exact milliseconds, no real waiting

PERSONA = "You are Sam from Acme Outfitters. The shop is open Monday to Saturday, 9 am to 6 pm."
ECHO = ("You are on a phone call. When the caller has given the details a tool needs, "
        "call the tool with them.")
LOOKUP = ToolDefinition(
    "lookup_order", "Look up an order by its ID and return its status, carrier and expected delivery.",
    {"type": "object", "properties": {"order_id": {"type": "string", "description": "the order number, digits only"}},
     "required": ["order_id"]},
)
TRANSFER = ToolDefinition(**{k: v for k, v in ToolRegistry().describe("transfer_call").items()})


def handler(runs: list):
    @tool("Look up an order", {"type": "object", "properties": {"order_id": {"type": "string"}}})
    async def lookup_order(order_id: str) -> dict:
        runs.append(order_id)
        return {"order_id": order_id, "status": "shipped", "carrier": "UPS"}

    return lookup_order


def call(llm: FakeLLM, runs: list | None = None, numbers: bool = False, **settings) -> tuple[Harness, FakeTTS]:
    tts = FakeTTS()
    engine = make_engine(FakeASR(), llm, tts, {"lookup_order": handler(runs if runs is not None else [])},
                         refuse_invented_numbers=numbers)
    return Harness(engine, **{"system_prompt": PERSONA, "tools": (LOOKUP,), **settings}), tts


async def test_an_echo_of_the_prompt_is_regenerated_once_and_the_answer_spoken(closing):
    llm = FakeLLM([[ECHO], ["We're open Monday to Saturday ", "from 9 am to 6 pm."]])
    h, tts = call(llm)
    closing(h)
    with capture_logs() as logs:
        h.conversation.feed_text("When are you open?")
        await h.wait_for(assistant_end)
    assert " ".join(tts.spoken) == "We're open Monday to Saturday from 9 am to 6 pm."  # in two pieces
    assert h.stored()["turn_002"].text == "We're open Monday to Saturday from 9 am to 6 pm."
    # the retry saw the same messages plus one short note at the end
    assert llm.calls[1][:-1] == llm.calls[0] and llm.calls[1][-1] == Message("system", RETRY_NOTE)
    guarded = [e for e in logs if e["event"] == "reply_guarded"]
    assert guarded == [{"event": "reply_guarded", "log_level": "info", "turn_id": "turn_002", "reason": "echo",
                        "first": True}]  # never the text at info level
    assert h.conversation.reply.state.guarded == 1 and h.stored()["turn_002"].guarded == 1


async def test_an_echo_of_a_tool_description_is_regenerated_and_the_retry_may_call_the_tool(closing):
    runs: list = []
    llm = FakeLLM([["You are looking up an order by its ID and returning its status, carrier, and expected delivery."],
                   [tool_call("lookup_order", order_id="1234")], ["Order 1234 has shipped with UPS."]])
    h, tts = call(llm, runs)
    closing(h)
    h.conversation.feed_text("Where is order 1234?")
    await h.wait_for(assistant_end)
    assert runs == ["1234"] and tts.spoken == ["Order 1234 has shipped with UPS."]
    assert len(llm.calls) == 3 and llm.calls[2][-1].role == "tool"  # the note is not kept after the retry


async def test_an_echo_twice_gets_the_safe_line(closing):
    llm = FakeLLM([[ECHO], ["You can call the lookup_order function with the order ID."], ["Never said."]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Hi")
    await h.wait_for(assistant_end)
    assert tts.spoken == [GUARDED_FALLBACK] and len(llm.calls) == 2
    assert h.stored()["turn_002"].text == GUARDED_FALLBACK


async def test_refused_twice_after_a_tool_ran_the_caller_hears_the_tool_line(closing):
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ['{"status": "shipped"}'], ["{}"]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == [TOOL_FAILED_FALLBACK]


async def test_a_refused_later_sentence_ends_the_reply_at_the_last_good_one(closing):
    llm = FakeLLM([["Order 1234 has shipped. ", "You can call the lookup_order function ", "with the order ID. ",
                    "Anything else?"]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["Order 1234 has shipped."] and len(llm.calls) == 1
    assert h.stored()["turn_002"].text == "Order 1234 has shipped."


async def test_the_agents_transcript_label_is_stripped_not_refused(closing):
    llm = FakeLLM([["You: Your order 1234 has shipped."]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Order 1234?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["Your order 1234 has shipped."] and len(llm.calls) == 1


@pytest.mark.parametrize("garbage", [["{}", "```"], ["...", "You:"], ["?!", " ]"], ["```json\n", "\n```"]])
async def test_garbage_output_gets_the_fallback_line_and_the_call_goes_on(closing, garbage):
    llm = FakeLLM([[garbage[0]], [garbage[1]], ["Hello, how can I help?"]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Hi")
    await h.wait_for(assistant_end)
    assert tts.spoken == [EMPTY_REPLY_FALLBACK]
    h.conversation.feed_text("Hi again")
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert tts.spoken == [EMPTY_REPLY_FALLBACK, "Hello,", "how can I help?"]


async def test_an_empty_reply_gets_the_fallback_line_without_a_retry(closing):
    llm = FakeLLM([["", "  "]])
    h, tts = call(llm)
    closing(h)
    h.conversation.feed_text("Hi")
    await h.wait_for(assistant_end)
    assert tts.spoken == [EMPTY_REPLY_FALLBACK] and len(llm.calls) == 1


@pytest.mark.parametrize("arguments", [{}, {"order_id": ""}, {"order_id": "  "}, {"order_id": "<order_id>"},
                                       {"order_id": "unknown"}, {"order_id": None}])
async def test_a_call_missing_a_value_asks_the_caller_and_does_not_run(closing, arguments):
    runs: list = []
    llm = FakeLLM([["Sure. ", tool_call("lookup_order", **arguments)], ["Never said."]])
    h, tts = call(llm, runs)
    closing(h)
    h.conversation.feed_text("Where is my order?")
    await h.wait_for(assistant_end)
    assert runs == [] and len(llm.calls) == 1
    assert tts.spoken == ["Sure.", "Could you tell me the order number?"]
    call_event = next(e for e in h.events if isinstance(e, ToolCall))
    result = next(e for e in h.events if isinstance(e, ToolResult))
    assert call_event.arguments == arguments and result.error == "missing order_id: asked the caller"
    turn = h.stored()["turn_002"]
    assert turn.text == "Sure. Could you tell me the order number?"
    assert turn.tool_calls[0].error == "missing order_id: asked the caller"


async def test_after_the_question_the_history_shows_the_call_the_error_and_the_question(closing):
    runs: list = []
    llm = FakeLLM([[tool_call("lookup_order")], [tool_call("lookup_order", order_id="1234")], ["It has shipped."]])
    h, tts = call(llm, runs)
    closing(h)
    h.conversation.feed_text("Where is my order?")
    await h.wait_for(assistant_end)
    h.conversation.feed_text("It's 1234.")
    await h.wait_for(lambda e: assistant_end(e) and e.turn_id == "turn_004")
    assert runs == ["1234"] and tts.spoken == ["Could you tell me the order number?", "It has shipped."]
    seen = [(m.role, m.content, [c.name for c in m.tool_calls]) for m in llm.calls[1][1:]]
    assert seen == [
        ("user", "Where is my order?", []),
        ("assistant", "", ["lookup_order"]),
        ("tool", '{"error": "missing order_id: asked the caller"}', []),
        ("assistant", "Could you tell me the order number?", []),
        ("user", "It's 1234.", []),
    ]


async def test_an_invalid_value_asks_for_it_too(closing):
    runs: list = []
    llm = FakeLLM([[tool_call("lookup_order", order_id=["1", "2"])]])
    h, tts = call(llm, runs)
    closing(h)
    h.conversation.feed_text("Order one two.")
    await h.wait_for(assistant_end)
    assert runs == [] and tts.spoken == ["Could you tell me the order number?"]
    result = next(e for e in h.events if isinstance(e, ToolResult))
    assert result.error.startswith("invalid arguments for lookup_order: order_id:")
    assert result.error.endswith("; asked the caller for order_id")


async def test_a_question_in_another_language_is_the_general_line_in_it(closing):
    llm = FakeLLM([[tool_call("lookup_order")]])
    h, tts = call(llm, language="de")
    closing(h)
    h.conversation.feed_text("Wo ist meine Bestellung?")
    await h.wait_for(assistant_end)
    assert tts.spoken == [lines.in_language(lines.ASK_DETAILS, "de")] != [lines.ASK_DETAILS]


async def test_call_control_with_a_missing_value_stays_an_error_result_for_the_model(closing):
    llm = FakeLLM([[tool_call("transfer_call")], ["Sorry, I cannot transfer you right now."]])
    h, tts = call(llm, tools=(TRANSFER,), transfer_targets=("+15550100",))
    closing(h)
    h.conversation.feed_text("Get me a person.")
    await h.wait_for(assistant_end)
    result = next(e for e in h.events if isinstance(e, ToolResult))
    assert "invalid arguments for transfer_call" in result.error and "asked the caller" not in result.error
    assert " ".join(tts.spoken) == "Sorry, I cannot transfer you right now."
    assert [e.role for e in h.events if isinstance(e, TurnEnd)] == ["user", "assistant"]


async def test_a_number_nothing_in_the_call_holds_is_not_said_by_an_agent_that_looks_things_up(closing):
    runs: list = []
    llm = FakeLLM([["Your order will arrive on June 15th, 2023."], ["Could you tell me the order number?"]])
    h, tts = call(llm, runs, numbers=True)
    closing(h)
    h.conversation.feed_text("When does my order arrive?")
    await h.wait_for(assistant_end)
    assert tts.spoken == ["Could you tell me the order number?"]


async def test_an_agent_may_quote_years_about_other_things(closing):
    llm = FakeLLM([["The telephone was patented in 1876."]])
    h, tts = call(llm, numbers=True)
    closing(h)
    h.conversation.feed_text("Tell me about telephones.")
    await h.wait_for(assistant_end)
    assert " ".join(tts.spoken) == "The telephone was patented in 1876."


async def test_numbers_from_a_tool_result_may_be_said(closing):
    runs: list = []
    llm = FakeLLM([[tool_call("lookup_order", order_id="1234")], ["Order 1234 has shipped with UPS."]])
    h, tts = call(llm, runs, numbers=True)
    closing(h)
    h.conversation.feed_text("Where is order one two three four?")
    await h.wait_for(assistant_end)
    assert runs == ["1234"] and tts.spoken == ["Order 1234 has shipped with UPS."]


async def test_a_value_in_another_shape_is_fitted_and_the_call_runs(closing):
    runs: list = []
    llm = FakeLLM([[tool_call("lookup_order", order_id="12 34")], ["It has shipped."]])
    patterned = ToolDefinition(LOOKUP.name, LOOKUP.description, {
        "type": "object", "properties": {"order_id": {"type": "string", "pattern": "^[0-9]{4}$"}}, "required": ["order_id"]})
    h, tts = call(llm, runs, tools=(patterned,))
    closing(h)
    h.conversation.feed_text("Where is order 12 34?")
    await h.wait_for(assistant_end)
    assert runs == ["1234"] and tts.spoken[-1] == "It has shipped."
    assert next(e for e in h.events if isinstance(e, ToolCall)).arguments == {"order_id": "1234"}
    assert h.stored()["turn_002"].tool_calls[0].arguments == {"order_id": "1234"}
