"""Message lists as OpenAI chat messages, and the plainer shape small local models answer well."""

import json

from agents.providers.llm.base import Message, ToolCallRequest, ToolSpec
from agents.providers.llm.chatformat import ANSWER_NOTE, CALL_FORMAT, TOOL_RULES, to_local, to_openai, tool_dicts

LOOKUP = ToolSpec("lookup_order", "Look up an order", {"type": "object", "properties": {"order_id": {"type": "string"}}})
CALL = ToolCallRequest("c1", "lookup_order", {"order_id": "1234"})
RESULT = json.dumps({"status": "shipped"})
HISTORY = [
    Message("system", "Be brief."),
    Message("user", "Status of 1234?"),
    Message("assistant", "", tool_calls=(CALL,)),
    Message("tool", RESULT, tool_call_id="c1", name="lookup_order"),
]


def test_openai_shape():
    assert to_openai(HISTORY) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Status of 1234?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "1234"}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": RESULT, "name": "lookup_order"},
    ]
    assert tool_dicts([LOOKUP]) == [
        {"type": "function", "function": {"name": "lookup_order", "description": "Look up an order", "parameters": LOOKUP.parameters}}
    ]


def test_local_shape_turns_a_call_and_its_result_into_one_note():
    out = to_local(HISTORY, [LOOKUP], template_has_tools=True)
    assert [m["role"] for m in out] == ["system", "user", "system"]
    assert out[0]["content"] == "Be brief.\n\n" + TOOL_RULES
    assert 'lookup_order({"order_id": "1234"})' in out[2]["content"] and RESULT in out[2]["content"]
    assert out[2]["content"].endswith(ANSWER_NOTE)  # the result is the last thing: now answer


def test_local_shape_writes_the_tools_when_the_template_cannot():
    out = to_local(HISTORY[:2], [LOOKUP], template_has_tools=False)
    assert json.dumps(tool_dicts([LOOKUP])[0]["function"]) in out[0]["content"]
    assert CALL_FORMAT in out[0]["content"] and TOOL_RULES in out[0]["content"]


def test_local_shape_reads_earlier_turns_as_a_transcript_before_the_callers_latest():
    # As turns, a plain assistant turn makes the small model stop calling tools (fold_earlier_turns).
    history = [
        Message("system", "Be brief."),
        Message("assistant", "Thanks for calling Acme."),
        Message("user", "Status of 1234?"),
        Message("assistant", "One moment.", tool_calls=(CALL,)),
        Message("tool", RESULT, tool_call_id="c1"),
        Message("assistant", "It shipped."),
        Message("user", "Which carrier?"),
    ]
    out = to_local(history, [LOOKUP], template_has_tools=True)
    assert [m["role"] for m in out] == ["system", "user"]
    system = out[0]["content"]
    assert system.startswith("Be brief.\n\nThe call so far") and system.endswith(TOOL_RULES)
    transcript = system.split("\n")
    assert transcript.index("You: Thanks for calling Acme.") < transcript.index("Caller: Status of 1234?") \
        < transcript.index("You: One moment.") < transcript.index("You: It shipped.")
    assert 'lookup_order({"order_id": "1234"})' in system and "shipped" in system  # the call and its result
    assert out[1] == {"role": "user", "content": "Which carrier?"}


def test_the_current_turns_tool_result_stays_a_note_to_answer():
    history = [Message("assistant", "Hello."), Message("user", "Status of 1234?"),
               Message("assistant", "", tool_calls=(CALL,)), Message("tool", RESULT, tool_call_id="c1")]
    out = to_local(history, [LOOKUP], template_has_tools=True)
    assert [m["role"] for m in out] == ["system", "user", "system"]
    assert "You: Hello." in out[0]["content"] and out[2]["content"].endswith(ANSWER_NOTE)


def test_no_tools_no_rules():
    assert to_local(HISTORY[:2], [], template_has_tools=True) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Status of 1234?"},
    ]
