"""Tool calls out of model output: lenient parsing for small local models (streaming.py never speaks one).

Small instruct models rarely answer a tool call in their template's exact form.
Seen here: a bare `{"name": ..., "arguments": ...}`, the same inside a ```json
fence or `<tool_call>` tags, `{{...}}` (a template that escaped its braces),
`{"tool": ..., "parameters": ...}`, a list of calls, arguments as a JSON string,
single-quoted Python dicts, a reply cut off before its closing brace. All of them
become ToolCallRequests; JSON that is not a call to an offered tool is dropped,
never spoken (a voice reading out braces is worse than silence).
"""

import ast
import json
import re
import uuid
from collections.abc import Iterable

from agents.providers.llm.base import ToolCallRequest, ToolSpec

_NAME_KEYS = ("name", "tool", "tool_name", "function", "action", "function_name")
_ARGS_KEYS = ("arguments", "parameters", "args", "input", "params", "tool_input", "action_input", "kwargs")
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*[ \t]*\n?(.*?)(?:```|$)", re.S)
_TAGGED = re.compile(r"<tool_call>(.*?)(?:</tool_call>|$)", re.S)
_FUNCTION_TAG = re.compile(r"<function=([\w.-]+)>(.*?)(?:</function>|$)", re.S)
_JSON_START = re.compile(r"\{|\[\s*\{")
_NOISE = re.compile(r"</?tool_call>|<\|python_tag\|>|</?tools?>|```[a-zA-Z0-9_+-]*")
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}


def new_call_id() -> str:
    return "call_" + uuid.uuid4().hex[:16]


# --- parsing a complete piece of text ------------------------------------------------------------


def parse_tool_calls(text: str, tools: list[ToolSpec]) -> tuple[list[ToolCallRequest], str]:
    """Split `text` into tool calls to offered tools and the prose around them.

    Every JSON-looking span (and any fence or tag wrapping it) is cut out of the
    prose, call or not. Calls to tools not in `tools` are dropped.
    """
    spans: list[tuple[int, int]] = []
    found: list[tuple[int, ToolCallRequest]] = []  # by position, so calls keep the order they were written in

    def add(start: int, calls: list[ToolCallRequest]) -> None:
        found.extend((start, call) for call in calls)

    for match in _FUNCTION_TAG.finditer(text):
        spans.append(match.span())
        args = _decode_loose(match.group(2).strip() or "{}")
        add(match.start(), _calls_from_value({"name": match.group(1), "arguments": args if args is not None else {}}, tools))
    for pattern in (_TAGGED, _FENCE):
        for match in pattern.finditer(text):
            if _inside(match.start(), spans):
                continue
            body = match.group(1).strip()
            values = list(_json_values(body))
            calls = [c for _, _, v in values for c in _calls_from_value(v, tools)] if values else _python_calls(body, tools)
            if values or calls or pattern is _TAGGED:
                spans.append(match.span())  # a fence of plain words stays speech, only its backticks go
                add(match.start(), calls)
    for start, end, value in _json_values(text):
        if _inside(start, spans):
            continue
        spans.append((start, end))
        add(start, _calls_from_value(value, tools))
    found.sort(key=lambda item: item[0])
    return [call for _, call in found], _cut(text, spans)


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= pos < end for start, end in spans)


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    pieces, pos = [], 0
    for start, end in sorted(spans):
        if start >= pos:
            pieces.append(text[pos:start])
            pos = end
        else:
            pos = max(pos, end)
    pieces.append(text[pos:])
    prose = _NOISE.sub(" ", " ".join(pieces))
    prose = re.sub(r"`\s*`", " ", prose)
    return re.sub(r"\s+", " ", prose).strip()


def _json_values(text: str) -> Iterable[tuple[int, int, object | None]]:
    """Every top-level JSON object or list of objects in `text` with its span, decoded leniently (None if broken)."""
    pos = 0
    while True:
        match = _JSON_START.search(text, pos)
        if match is None:
            return
        start = match.start()
        end = _balanced_end(text, start)
        yield start, end, _decode_loose(text[start:end])  # None: JSON-looking but broken, still never spoken
        pos = end


def _balanced_end(text: str, start: int) -> int:
    """Index after the bracket matching text[start], or len(text) when the reply was cut off."""
    depth, in_string, escaped, quote = 0, False, False, ""
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                in_string = False
        elif ch in "\"'":
            in_string, quote = True, ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
    return len(text)


def _decode_loose(raw: str) -> object | None:
    raw = raw.strip()
    candidates = [raw]
    if raw.startswith("{{") and raw.endswith("}}"):
        candidates.append(raw[1:-1])  # a chat template that escaped its braces: {{"name": ...}}
    open_brackets, open_string = _bracket_stack(raw)
    if open_brackets and not open_string:
        # cut off by max_tokens after the last value but before the closing braces; a value cut
        # mid-string ("12" of "1234") is not trusted
        candidates.append(raw + "".join("}" if ch == "{" else "]" for ch in reversed(open_brackets)))
    for candidate in candidates:
        for attempt in (candidate, re.sub(r",\s*([}\]])", r"\1", candidate)):
            try:
                return json.loads(attempt)
            except ValueError:
                pass
            try:
                value = ast.literal_eval(attempt)  # single-quoted Python dicts
            except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
                continue
            if isinstance(value, (dict, list)):
                return value
    return None


def _bracket_stack(raw: str) -> tuple[str, bool]:
    """The brackets still open at the end of `raw`, and whether a string is still open."""
    stack, in_string, escaped = [], False, False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append(ch)
        elif ch in "}]" and stack:
            stack.pop()
    return "".join(stack), in_string


def _calls_from_value(value: object, tools: list[ToolSpec]) -> list[ToolCallRequest]:
    if isinstance(value, list):
        return [call for item in value for call in _calls_from_value(item, tools)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("tool_calls"), list):
        return _calls_from_value(value["tool_calls"], tools)
    if isinstance(value.get("tool_call"), dict):
        return _calls_from_value(value["tool_call"], tools)
    if isinstance(value.get("function"), dict):  # OpenAI shape: {"type": "function", "function": {...}}
        inner = dict(value["function"])
        if "id" in value:
            inner.setdefault("id", value["id"])
        return _calls_from_value(inner, tools)
    known = {tool.name: tool for tool in tools}
    name_key = next((k for k in _NAME_KEYS if isinstance(value.get(k), str) and value[k] in known), None)
    if name_key is not None:
        args_key = next((k for k in _ARGS_KEYS if k in value), None)
        if args_key is not None:
            args = value[args_key]
        else:  # {"name": "lookup_order", "order_id": "1234"}
            args = {k: v for k, v in value.items() if k not in (name_key, "id", "type")}
        args = as_arguments(args)
        if args is None:
            return []
        call_id = value.get("id") if isinstance(value.get("id"), str) and value.get("id") else new_call_id()
        return [ToolCallRequest(call_id=call_id, name=value[name_key], arguments=args)]
    tool = _tool_by_shape(value, tools)  # arguments alone, e.g. {"order_id": "1234"}
    return [ToolCallRequest(call_id=new_call_id(), name=tool.name, arguments=dict(value))] if tool else []


def as_arguments(args: object) -> dict | None:
    if isinstance(args, str):
        args = _decode_loose(args) if args.strip() else {}
    if args is None:
        return None
    return args if isinstance(args, dict) else None


def _tool_by_shape(value: dict, tools: list[ToolSpec]) -> ToolSpec | None:
    """The one offered tool whose required parameters are all present and which knows every key."""
    if not value:
        return None
    fits = []
    for tool in tools:
        props = set((tool.parameters or {}).get("properties", {}))
        required = set((tool.parameters or {}).get("required", []))
        if required <= set(value) <= props:
            fits.append(tool)
    return fits[0] if len(fits) == 1 else None


def _python_calls(body: str, tools: list[ToolSpec]) -> list[ToolCallRequest]:
    """`lookup_order(order_id="1234")` or `lookup_order("1234")` inside a fence: literal arguments only."""
    known = {tool.name: tool for tool in tools}
    calls = []
    try:
        tree = ast.parse(body.strip())
    except SyntaxError:
        return []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in known):
            continue
        tool = known[node.func.id]
        try:
            args = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            positional = [ast.literal_eval(arg) for arg in node.args]
        except ValueError:
            continue
        order = list((tool.parameters or {}).get("required", [])) + [
            p for p in (tool.parameters or {}).get("properties", {}) if p not in (tool.parameters or {}).get("required", [])
        ]
        for name, val in zip(order, positional):
            args.setdefault(name, val)
        calls.append(ToolCallRequest(call_id=new_call_id(), name=tool.name, arguments=args))
    return calls


# --- spoken digits ---------------------------------------------------------------------------------


def spoken_digits(value: str) -> str:
    """"one two three four" -> "1234"; anything that is not wholly spoken digits comes back unchanged.

    Callers read numbers out digit by digit and ASR writes them as words; a
    small model copies the words into the tool argument.
    """
    tokens = [t for t in re.split(r"[\s,.\-]+", value.lower()) if t]
    digits, repeat = [], 1
    for token in tokens:
        if token in ("double", "triple"):
            repeat = 2 if token == "double" else 3
            continue
        digit = _DIGIT_WORDS.get(token, token if token.isdigit() else None)
        if digit is None:
            return value
        digits.append(digit * repeat)
        repeat = 1
    spoken = sum(1 for t in tokens if t in _DIGIT_WORDS)
    return "".join(digits) if spoken >= 2 and repeat == 1 else value


def normalize_arguments(args: dict) -> dict:
    """Spoken digits to digits in every string argument (nested too)."""

    def fix(value):
        if isinstance(value, str):
            return spoken_digits(value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return fix(args)
