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
HISTORY_NOTE = "The call so far (\"You\" is you):\n{lines}"
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
    messages = fold_earlier_turns(messages)
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


def fold_earlier_turns(messages: list[Message]) -> list[Message]:
    """The turns before the caller's latest as a transcript in the system prompt; that turn stays a turn.

    Shown a plain assistant turn (the greeting, small talk), the 0.5B model mostly stops calling
    tools: "Can you check order 5678?" right after "Thanks for calling Acme" was looked up in 0 of 3
    tries as turns, 2 of 3 as a transcript; a follow-up reading an earlier answer 2/3 -> 3/3. After
    small talk it still fails (0/3 either way; the 1.5B model 0/2 -> 1/2): tests/perf/llm_eval.py
    cases f-h. Folding the user turn in as well made it answer in the transcript's voice ("You: ...")."""
    latest = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    start = 1 if messages and messages[0].role == "system" else 0
    if latest is None or latest <= start:
        return messages
    lines: list[str] = []
    pending: dict[str, str] = {}  # call_id -> "name({...})"
    for m in messages[start:latest]:
        if m.role == "user":
            lines.append(f"Caller: {m.content}")
        elif m.role == "assistant":
            for c in m.tool_calls:
                pending[c.call_id] = f"{c.name}({json.dumps(c.arguments)})"
            if m.content.strip():
                lines.append(f"You: {m.content}")
        elif m.role == "tool":
            call = pending.pop(m.tool_call_id or "", None) or f"{m.name or 'a tool'}(...)"
            lines.append("(" + RESULT_NOTE.format(calls=call, results=m.content) + ")")
        else:
            lines.append(f"({m.content})")
    note = HISTORY_NOTE.format(lines="\n".join(lines))
    system = f"{messages[0].content}\n\n{note}" if start else note
    return [Message("system", system), *messages[latest:]]


def _tools_block(tools: list[ToolSpec]) -> str:
    lines = "\n".join(json.dumps(d["function"]) for d in tool_dicts(tools))
    return "Tools you can call:\n" + lines
