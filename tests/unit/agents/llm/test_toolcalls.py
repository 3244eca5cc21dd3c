"""The lenient tool-call parser, spoken digits and the streaming splitter (pure, no model)."""

import pytest

from agents.providers.llm.base import TextDelta, ToolCallRequest, ToolCallStarting, ToolSpec
from agents.providers.llm.streaming import ReplySplitter, ToolCallDeltas
from agents.providers.llm.toolcalls import parse_tool_calls, spoken_digits

LOOKUP = ToolSpec(
    "lookup_order",
    "Look up an order",
    {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
)
END = ToolSpec("end_call", "Hang up", {"type": "object", "properties": {"reason": {"type": "string"}}})
TOOLS = [LOOKUP, END]
ORDER = ("lookup_order", {"order_id": "1234"})


def _calls(text, tools=TOOLS):
    calls, prose = parse_tool_calls(text, tools)
    return [(c.name, c.arguments) for c in calls], prose


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "lookup_order", "arguments": {"order_id": "1234"}}',
        '  {"name": "lookup_order", "arguments": {"order_id": "1234"}}\n',
        '{"name": "lookup_order", "parameters": {"order_id": "1234"}}',
        '{"tool": "lookup_order", "parameters": {"order_id": "1234"}}',
        '{"tool_name": "lookup_order", "args": {"order_id": "1234"}}',
        '{"function": "lookup_order", "arguments": {"order_id": "1234"}}',
        '{"name": "lookup_order", "arguments": "{\\"order_id\\": \\"1234\\"}"}',
        '{"name": "lookup_order", "order_id": "1234"}',
        '{"type": "function", "function": {"name": "lookup_order", "arguments": "{\\"order_id\\": \\"1234\\"}"}}',
        '{"tool_call": {"name": "lookup_order", "arguments": {"order_id": "1234"}}}',
        '{"tool_calls": [{"name": "lookup_order", "arguments": {"order_id": "1234"}}]}',
        '[{"name": "lookup_order", "arguments": {"order_id": "1234"}}]',
        '{{"name": "lookup_order", "arguments": {"order_id": "1234"}}}',
        "{'name': 'lookup_order', 'arguments': {'order_id': '1234'}}",
        '{"name": "lookup_order", "arguments": {"order_id": "1234",},}',
        '{"name": "lookup_order", "arguments": {"order_id": "1234"}',
        '```json\n{"name": "lookup_order", "arguments": {"order_id": "1234"}}\n```',
        '```\n{"name": "lookup_order", "arguments": {"order_id": "1234"}}\n```',
        '```json\n{"name": "lookup_order", "arguments": {"order_id": "1234"}}',
        '<tool_call>\n{"name": "lookup_order", "arguments": {"order_id": "1234"}}\n</tool_call>',
        '<tool_call>{"name": "lookup_order", "arguments": {"order_id": "1234"}}',
        '<function=lookup_order>{"order_id": "1234"}</function>',
        '<|python_tag|>{"name": "lookup_order", "parameters": {"order_id": "1234"}}',
        '{"order_id": "1234"}',
        '```python\nlookup_order(order_id="1234")\n```',
        '```python\nlookup_order("1234")\n```',
    ],
)
def test_one_call_in_many_shapes(text):
    calls, prose = _calls(text)
    assert calls == [ORDER]
    assert prose == ""


def test_prose_around_a_call_is_kept_and_the_json_is_not():
    calls, prose = _calls('Let me check that for you. ```json\n{"name": "lookup_order", "arguments": {"order_id": "1234"}}\n``` One moment.')
    assert calls == [ORDER]
    assert prose == "Let me check that for you. One moment."


def test_two_calls_and_native_ids():
    text = '[{"id": "c1", "name": "lookup_order", "arguments": {"order_id": "1"}}, {"name": "end_call", "arguments": {}}]'
    calls, _ = parse_tool_calls(text, TOOLS)
    assert [(c.name, c.arguments) for c in calls] == [("lookup_order", {"order_id": "1"}), ("end_call", {})]
    assert calls[0].call_id == "c1" and calls[1].call_id.startswith("call_")


@pytest.mark.parametrize(
    "text, prose",
    [
        ('{"status": "shipped", "carrier": "UPS"} Your order has shipped.', "Your order has shipped."),
        ('{"name": "update_order", "arguments": {"order_id": "1234"}}', ""),  # not an offered tool
        ('{"name": "lookup_order", "arguments": {"order_id": "12', ""),  # cut mid-value: not trusted
        ("Sure {this is not json", "Sure"),
    ],
)
def test_json_that_is_not_a_call_is_never_spoken(text, prose):
    assert _calls(text) == ([], prose)


def test_arguments_alone_need_exactly_one_fitting_tool():
    other = ToolSpec("find_order", "", {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]})
    assert _calls('{"order_id": "1234"}', [LOOKUP, other])[0] == []
    assert _calls('{"order_id": "1234", "colour": "red"}')[0] == []


def test_plain_text_is_left_alone():
    assert _calls("Your order shipped on Friday.") == ([], "Your order shipped on Friday.")


@pytest.mark.parametrize(
    "spoken, digits",
    [
        ("one two three four", "1234"),
        ("One, two, three, four.", "1234"),
        ("double five oh nine", "5509"),
        ("four-four-two", "442"),
        ("1 two 3 four", "1234"),
        ("1234", "1234"),
        ("one", "one"),  # a single word is left as the model wrote it
        ("one moment please", "one moment please"),
        ("A12", "A12"),
    ],
)
def test_spoken_digits(spoken, digits):
    assert spoken_digits(spoken) == digits


def _stream(pieces, tools=TOOLS, normalize=True):
    splitter = ReplySplitter(tools, normalize_digits=normalize)
    out = []
    for piece in pieces:
        out.append(splitter.feed(piece))
    out.append(splitter.finish())
    return out


def test_plain_text_streams_at_once():
    steps = _stream(["Sure", ",", " I", " can", " help", "."])
    assert steps[:6] == [[TextDelta("Sure")], [TextDelta(",")], [TextDelta(" I")], [TextDelta(" can")], [TextDelta(" help")], [TextDelta(".")]]
    assert steps[6] == []


def test_a_tool_call_is_held_whole_and_never_spoken():
    pieces = ["\n", '{"', "name", '":', ' "lookup_order", "arguments": {"order_id": "', "one two three four", '"}}']
    steps = _stream(pieces)
    # hints (for a hold line) as the call begins and once it names its tool, then nothing until it is whole
    assert steps[1] == [ToolCallStarting()] and steps[4] == [ToolCallStarting("lookup_order")]
    assert all(step == [] for i, step in enumerate(steps[:-1]) if i not in (1, 4))
    [call] = steps[-1]
    assert isinstance(call, ToolCallRequest) and (call.name, call.arguments) == ("lookup_order", {"order_id": "1234"})


def test_text_then_a_fenced_call():
    steps = _stream(["Let me", " check.", " ``", "`json\n{", '"name": "lookup_order", "arguments": {"order_id": "1234"}}\n```'])
    spoken = "".join(d.text for step in steps for d in step if isinstance(d, TextDelta))
    calls = [d for step in steps for d in step if isinstance(d, ToolCallRequest)]
    assert steps[0] == [TextDelta("Let me")] and steps[1] == [TextDelta(" check.")]
    assert "`" not in spoken and "{" not in spoken
    assert [(c.name, c.arguments) for c in calls] == [ORDER]


def test_a_tag_prefix_waits_for_the_next_token_only():
    steps = _stream(["Hello", " <", "b> there"])
    assert steps[1] == [TextDelta(" ")]  # "<" might open <tool_call>: held one token
    assert steps[2] == [TextDelta("<b> there")]


def test_leading_whitespace_is_not_spoken():
    assert _stream(["\n\n", "  Hi"])[:2] == [[], [TextDelta("Hi")]]


def test_digits_normalization_can_be_off():
    *_, last = _stream(['{"name": "lookup_order", "arguments": {"order_id": "one two"}}'], normalize=False)
    assert last[0].arguments == {"order_id": "one two"}


def test_streamed_tool_call_deltas_accumulate_like_openai_sends_them():
    deltas = ToolCallDeltas()
    deltas.add([{"index": 0, "id": "call_abc", "type": "function", "function": {"name": "lookup_order", "arguments": ""}}])
    for piece in ['{"', "order", '_id":', ' "12', '34"}']:
        deltas.add([{"index": 0, "function": {"arguments": piece}}])
    deltas.add([{"index": 1, "id": "call_def", "function": {"name": "end_call", "arguments": "{}"}}])
    calls = deltas.finish()
    assert calls == [ToolCallRequest("call_abc", "lookup_order", {"order_id": "1234"}), ToolCallRequest("call_def", "end_call", {})]


def test_tool_call_deltas_from_servers_that_repeat_names_or_send_objects():
    deltas = ToolCallDeltas()
    deltas.add([{"function": {"name": "lookup_order", "arguments": {"order_id": "1234"}}}])  # Ollama: one whole call
    deltas.add([{"index": 1, "function": {"name": "end_call", "arguments": '{"reason": '}}])
    deltas.add([{"index": 1, "function": {"name": "end_call", "arguments": '"done"}'}}])
    calls = deltas.finish()
    assert [(c.name, c.arguments) for c in calls] == [ORDER, ("end_call", {"reason": "done"})]
    assert all(c.call_id for c in calls)


def test_calls_keep_their_written_order_across_wrappers():
    text = '<tool_call>{"name": "end_call", "arguments": {}}</tool_call> then {"name": "lookup_order", "arguments": {"order_id": "9"}}'
    assert _calls(text)[0] == [("end_call", {}), ("lookup_order", {"order_id": "9"})]
    text = '{"name": "lookup_order", "arguments": {"order_id": "9"}} ```json\n{"name": "end_call", "arguments": {}}\n```'
    assert _calls(text)[0] == [("lookup_order", {"order_id": "9"}), ("end_call", {})]


def test_a_fence_of_plain_words_is_still_spoken():
    assert _calls("```\nYour order shipped on Friday.\n```") == ([], "Your order shipped on Friday.")
