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
import re

from agents.providers.llm.base import Message, ToolCallRequest, ToolSpec

TOOL_RULES = (
    "You are on a phone call. When the caller has given the details a tool needs, call the tool with them. "
    "If a detail is missing, ask the caller for it. For anything else, just talk to the caller like a friendly "
    "person; never mention tools, functions, parameters or JSON."
)

CALL_FORMAT = (
    'To call a tool, reply with only this JSON and nothing else: {"name": "<tool name>", "arguments": {<arguments>}}'
)

RESULT_NOTE = "You called {calls} and got: {results}"
# After a look-up the policy made (agents/tool_policy.py): the result as plain facts, not JSON. Shown
# '{"status": "shipped", "carrier": "UPS", ...}' the 0.5B model said 'The status of order 1234 is "shipped"'
# or dropped the carrier; as "status: shipped; carrier: UPS" it says them. In the agent's own voice: told
# "You looked up ... tell the caller what you found", it answered "You found that the order is shipped".
FACTS_NOTE = "I looked up {what} and found: {facts}."
FACTS_ANSWER_NOTE = "Now give the caller these facts, every detail, in one or two short sentences."
# Tools the policy keeps from the model still shape its words: it must ask for a missing number, not guess one.
ASK_NOTE = "To {what} you need {needs}; if the caller has not said it, ask them for it."
NO_GUESS_NOTE = "Only say facts you were told here; never make up order details, dates or numbers."
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
    fold: bool = True,
    notes: tuple[str, ...] = (),
    plain_results: bool = False,
) -> list[dict]:
    """Messages for a small local model; tool calls and their results become one system note.

    With `template_has_tools` the chat template lists the tools itself (the
    request carries `tools`); otherwise they are written into the system prompt
    with `CALL_FORMAT`. `fold`: earlier turns as a transcript in the system prompt
    (fold_earlier_turns). `notes` go at the end of the system prompt. `plain_results`:
    tool results as plain facts (FACTS_NOTE) instead of the call and its JSON.
    """
    if fold:
        messages = fold_earlier_turns(messages)
    out: list[dict] = []
    calls: dict[str, ToolCallRequest] = {}  # calls still waiting for their result
    results: list[tuple[ToolCallRequest | None, str]] = []

    def flush_results() -> None:
        if results:
            out.append({"role": "system", "content": _result_note(results, plain_results)})
            results.clear()

    for m in messages:
        if m.role == "tool":
            results.append((calls.pop(m.tool_call_id or "", None), m.content))
            continue
        flush_results()
        if m.role == "assistant" and m.tool_calls:
            for c in m.tool_calls:
                calls[c.call_id] = c
            if m.content.strip():
                out.append({"role": "assistant", "content": m.content})
        else:
            out.append({"role": m.role, "content": m.content})
    if results:
        flush_results()
        note = FACTS_ANSWER_NOTE if plain_results else ANSWER_NOTE
        language = REPLY_IN.search(messages[0].content) if plain_results and messages else None
        if language:  # said last, or the small model answers the English note in English
            note += f" Reply in {language.group(1)}."
        out[-1]["content"] += "\n" + note
    extra = ""
    if tools:
        extra = tool_rules if template_has_tools else _tools_block(tools) + "\n" + CALL_FORMAT + "\n" + tool_rules
    extra = " ".join(part for part in (extra, *notes) if part)
    if extra:
        if out and out[0]["role"] == "system":
            out[0] = {"role": "system", "content": (out[0]["content"] + "\n\n" + extra).strip()}
        else:
            out.insert(0, {"role": "system", "content": extra})
    return out


REPLY_IN = re.compile(r"Always reply in ([A-Z][\w ]+?) \((\w\w)\)")  # (name, code): languages.reply_instruction


def _result_note(results: list[tuple[ToolCallRequest | None, str]], plain: bool) -> str:
    if plain:
        notes = []
        for call, content in results:
            arguments = call.arguments if call is not None else {}
            what = ", ".join(str(v) for v in arguments.values()) or "it"  # "1234", not "the order id is 1234": read out
            notes.append(FACTS_NOTE.format(what=what, facts=facts(content, skip=arguments.values())))
        return " ".join(notes)
    shown = ", ".join(f"{c.name}({json.dumps(c.arguments)})" if c else "a tool(...)" for c, _ in results)
    return RESULT_NOTE.format(calls=shown, results="; ".join(content for _, content in results))


def facts(content: str, skip=()) -> str:
    """A tool result as plain facts: '{"status": "shipped", "carrier": "UPS"}' -> 'status shipped, carrier UPS'.

    Values the caller already gave (the order number asked about) and a bare `"found": true` are left out:
    the small model read them back instead of the facts that matter."""
    try:
        value = json.loads(content)
    except ValueError:
        return content
    if not isinstance(value, dict):
        return content
    known = {str(v) for v in skip}
    kept = {k: v for k, v in value.items() if v is not True and str(v) not in known}
    return _plain(kept or value, ", ")


def _plain(value, between: str = "; ") -> str:
    if isinstance(value, dict):
        # "the status is shipped", not "status shipped": said as a list of labels, TTS ran them together and
        # a listener (Whisper, in test_stream) heard "satisfied" for "status shipped".
        parts = [f"the {k.replace('_', ' ')} {'are' if isinstance(v, list) else 'is'} {_plain(v)}"
                 for k, v in value.items() if v is not None and v != ""]
        return between.join(parts)
    if isinstance(value, list):
        return " and ".join(_plain(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


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
