"""Parley's Message list as OpenAI-style chat messages: the native shape, and a plainer one small local models follow.

`to_openai` is the wire shape every OpenAI-compatible server takes (assistant
`tool_calls` with JSON-string arguments, `tool` messages by `tool_call_id`).

`to_local` is what a sub-2B model answers well. Measured here with
Qwen2.5-Coder 0.5B/1.5B: shown its own tool call and a `<tool_response>` turn,
the 0.5B model repeats the call and echoes the JSON; told in a system note
"You called lookup_order(...) and it returned ...; now tell the caller", both
models answer in a plain sentence. The tool rules appended to the system prompt
stop them explaining functions to the caller instead of talking to them (wording
chosen by tests/perf/llm_eval.py: of six phrasings this one passed all five cases
with the 0.5B model; "call a tool only when ... never guess" made the 1.5B model
refuse to call at all, and listing the tools ourselves instead of through the chat
template made the 0.5B model call the tool with an invented number on "Hi").
"""

import json

from agents.providers.llm.base import Message, ToolSpec

TOOL_RULES = (
    "You are on a phone call. When the caller has given the details a tool needs, call the tool with them. "
    "If a detail is missing, ask the caller for it. For anything else, just talk to the caller like a friendly "
    "person; never mention tools, functions, parameters or JSON."
)

CALL_FORMAT = (
    'To call a tool, reply with only this JSON and nothing else: {"name": "<tool name>", "arguments": {<arguments>}}'
)

RESULT_NOTE = "You called {calls} and got: {results}"
ANSWER_NOTE = "Now tell the caller the result in plain words, in one or two short sentences."


def tool_dicts(tools: list[ToolSpec]) -> list[dict]:
    return [
        {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in tools
    ]


def to_openai(messages: list[Message]) -> list[dict]:
    out = []
    for m in messages:
        if m.role == "assistant" and m.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    "content": m.content or None,
                    "tool_calls": [
                        {
                            "id": c.call_id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": json.dumps(c.arguments)},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        elif m.role == "tool":
            item = {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
            if m.name:
                item["name"] = m.name
            out.append(item)
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def to_local(
    messages: list[Message],
    tools: list[ToolSpec],
    *,
    template_has_tools: bool,
    tool_rules: str = TOOL_RULES,
) -> list[dict]:
    """Messages for a small local model; tool calls and their results become one system note.

    With `template_has_tools` the chat template lists the tools itself (the
    request carries `tools`); otherwise they are written into the system prompt
    with `CALL_FORMAT`.
    """
    out: list[dict] = []
    calls: dict[str, str] = {}  # call_id -> "name({...})" of calls still waiting for their result
    results: list[tuple[str, str]] = []

    def flush_results() -> None:
        if results:
            shown = ", ".join(call for call, _ in results)
            got = "; ".join(content for _, content in results)
            out.append({"role": "system", "content": RESULT_NOTE.format(calls=shown, results=got)})
            results.clear()

    for m in messages:
        if m.role == "tool":
            call = calls.pop(m.tool_call_id or "", None) or f"{m.name or 'a tool'}(...)"
            results.append((call, m.content))
            continue
        flush_results()
        if m.role == "assistant" and m.tool_calls:
            for c in m.tool_calls:
                calls[c.call_id] = f"{c.name}({json.dumps(c.arguments)})"
            if m.content.strip():
                out.append({"role": "assistant", "content": m.content})
        else:
            out.append({"role": m.role, "content": m.content})
    if results:
        flush_results()
        out[-1]["content"] += "\n" + ANSWER_NOTE
    if tools:
        extra = tool_rules if template_has_tools else _tools_block(tools) + "\n" + CALL_FORMAT + "\n" + tool_rules
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": (out[0]["content"] + "\n\n" + extra).strip()}
        else:
            out.insert(0, {"role": "system", "content": extra})
    return out


def _tools_block(tools: list[ToolSpec]) -> str:
    lines = "\n".join(json.dumps(d["function"]) for d in tool_dicts(tools))
    return "Tools you can call:\n" + lines
