"""The grammar a local model's tool call is written under: one of the offered tools, values within their schema."""

from jsonschema import Draft202012Validator

from agents.providers.llm.base import ToolSpec
from agents.providers.llm.constrained import call_schema

LOOKUP = ToolSpec("lookup_order", "Look up an order.", {
    "type": "object", "properties": {"order_id": {"type": "string", "pattern": "^[0-9]{4}$"}}, "required": ["order_id"]})
CALLBACK = ToolSpec("schedule_callback", "Call back.", {
    "type": "object", "properties": {"when": {"type": "string", "enum": ["morning", "evening"]},
                                     "party": {"type": "integer", "maximum": 12}}, "required": ["when"]})


def test_one_tool_is_a_single_object_and_several_are_any_of():
    assert call_schema([LOOKUP])["properties"]["name"] == {"const": "lookup_order"}
    assert [v["properties"]["name"]["const"] for v in call_schema([LOOKUP, CALLBACK])["anyOf"]] == \
        ["lookup_order", "schedule_callback"]


def test_what_the_schema_admits():
    valid = Draft202012Validator(call_schema([LOOKUP, CALLBACK])).is_valid
    assert valid({"name": "schedule_callback", "arguments": {"when": "evening", "party": 2}})
    assert valid({"name": "schedule_callback", "arguments": {}})  # a value not given may be left out, then asked for
    assert valid({"name": "lookup_order", "arguments": {"order_id": "12 34"}})  # patterns are fitted afterwards
    assert not valid({"name": "schedule_callback", "arguments": {"when": "noon"}})
    assert not valid({"name": "schedule_callback", "arguments": {"party": 20}})
    assert not valid({"name": "schedule_callback", "arguments": {"when": "evening", "date": "Monday"}})
    assert not valid({"name": "transfer_call", "arguments": {}})
    assert not valid({"name": "lookup_order", "arguments": {"when": "evening"}})  # another tool's argument
    assert not valid({"name": "lookup_order"})


def test_the_tools_own_schemas_are_not_changed():
    call_schema([LOOKUP, CALLBACK])
    assert LOOKUP.parameters["required"] == ["order_id"] and "pattern" in LOOKUP.parameters["properties"]["order_id"]
