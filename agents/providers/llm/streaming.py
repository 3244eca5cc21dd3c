"""Streaming model output: text goes out as soon as it cannot start a tool call; tool calls never get spoken.

`ReplySplitter` works on generated text (local models that write calls as text,
parsed by toolcalls.parse_tool_calls); `ToolCallDeltas` accumulates OpenAI-style
streamed `delta.tool_calls` fragments.
"""

import re
from dataclasses import dataclass

from agents.providers.llm.base import LLMOutput, TextDelta, ToolCallRequest, ToolCallStarting, ToolSpec
from agents.providers.llm.toolcalls import as_arguments, new_call_id, normalize_arguments, parse_tool_calls

_TAG_MARKERS = ("<tool_call>", "<function=", "<|python_tag|>")
# The tool's name inside a call being written: JSON ("name": "x") or Llama's <function=x>.
_CALL_NAME = re.compile(r'"name"\s*:\s*"([^"]+)"|<function=([\w.-]+)[>\s(]')


def _marker_at(text: str, i: int) -> str:
    """'yes' if a tool call may start at text[i], 'maybe' if more text is needed to tell, else 'no'."""
    ch = text[i]
    rest = text[i:]
    if ch == "{":
        return "yes"
    if ch == "[":
        after = rest[1:].lstrip()
        return "yes" if after.startswith("{") else ("maybe" if not after else "no")
    if ch == "`":
        if rest.startswith("```"):
            return "yes"
        return "maybe" if rest in ("`", "``") else "no"
    if ch == "<":
        for marker in _TAG_MARKERS:
            if rest.startswith(marker):
                return "yes"
            if marker.startswith(rest):
                return "maybe"
        return "no"
    return "no"


@dataclass
class ReplySplitter:
    """Turns a stream of generated text into TextDeltas and ToolCallRequests.

    Text streams out as soon as it cannot be the start of a tool call; from the
    first `{`, fence or tool tag on, the rest of the reply is held and parsed
    when it ends (`finish`). Feed it from one task; not thread-safe.
    """

    tools: list[ToolSpec]
    normalize_digits: bool = True
    _pending: str = ""
    _held: str | None = None
    _started: bool = False
    _named: bool = False  # the ToolCallStarting hint went out

    def feed(self, text: str) -> list[LLMOutput]:
        if self._held is not None:
            self._held += text
            return self._hint()
        self._pending += text
        return self._scan()

    def _hint(self) -> list[LLMOutput]:
        """ToolCallStarting once the held text names a tool (a few tokens after the call began)."""
        if self._named or not self.tools or self._held is None:
            return []
        found = _CALL_NAME.search(self._held)
        if found is None:
            return []
        self._named = True
        return [ToolCallStarting(found.group(1) or found.group(2))]

    def finish(self) -> list[LLMOutput]:
        out: list[LLMOutput] = []
        if self._pending:
            out += self._text(self._pending)
            self._pending = ""
        if self._held is not None:
            calls, prose = parse_tool_calls(self._held, self.tools)
            self._held = None
            if prose:
                out += self._text((" " if self._started else "") + prose)
            out += [self.call(c) for c in calls]
        return out

    def call(self, call: ToolCallRequest) -> ToolCallRequest:
        """A finished call, arguments normalized; also for calls the runtime parsed natively."""
        if self.normalize_digits:
            call = ToolCallRequest(call.call_id, call.name, normalize_arguments(call.arguments))
        return call

    def _scan(self) -> list[LLMOutput]:
        text = self._pending
        for i, ch in enumerate(text):
            if ch not in "{[`<":
                continue
            state = _marker_at(text, i)
            if state == "no":
                continue
            self._pending = text[i:] if state == "maybe" else ""
            if state == "yes":
                self._held = text[i:]
                return self._text(text[:i]) + (self._hint() or ([ToolCallStarting()] if self.tools else []))
            return self._text(text[:i])
        self._pending = ""
        return self._text(text)

    def _text(self, text: str) -> list[LLMOutput]:
        if not self._started:
            text = text.lstrip()
            if not text:
                return []
            self._started = True
        return [TextDelta(text)] if text else []


class ToolCallDeltas:
    """Accumulates streamed OpenAI `delta.tool_calls` fragments (keyed by `index`) into ToolCallRequests."""

    def __init__(self) -> None:
        self._calls: dict[int, dict] = {}
        self._named = False

    def hint(self) -> list[LLMOutput]:
        """ToolCallStarting once the first call's name has arrived (OpenAI sends it in the first fragment)."""
        if self._named:
            return []
        for _, slot in sorted(self._calls.items()):
            if slot["name"]:
                self._named = True
                return [ToolCallStarting(slot["name"])]
        return []

    def add(self, fragments: list[dict]) -> None:
        for fragment in fragments or []:
            index = fragment.get("index")
            if not isinstance(index, int):
                index = len(self._calls)
            slot = self._calls.setdefault(index, {"id": "", "name": "", "arguments": ""})
            if fragment.get("id"):
                slot["id"] = fragment["id"]
            function = fragment.get("function") or {}
            name = function.get("name")
            if name and name != slot["name"]:
                # OpenAI sends the name once; a server that repeats it whole must not double it
                slot["name"] = slot["name"] + name if slot["name"] and not name.startswith(slot["name"]) else name
            arguments = function.get("arguments")
            if isinstance(arguments, dict):  # Ollama sends the arguments already decoded
                slot["arguments"] = arguments
            elif isinstance(arguments, str) and isinstance(slot["arguments"], str):
                slot["arguments"] += arguments

    def __bool__(self) -> bool:
        return bool(self._calls)

    def finish(self) -> list[ToolCallRequest]:
        calls = []
        for _, slot in sorted(self._calls.items()):
            if not slot["name"]:
                continue
            arguments = as_arguments(slot["arguments"])
            calls.append(ToolCallRequest(slot["id"] or new_call_id(), slot["name"], arguments or {}))
        self._calls.clear()
        return calls
