"""Which tool a caller's latest words call for, decided from the words themselves before a small model speaks.

A 0.5B local model skips look-ups after small talk, invents order numbers and
describes tools instead of calling them (tests/perf/call_eval: 1 of 4 calls right
before this policy). What a phone caller asks for is mostly plain in the words:
a number for a tool that takes one, a request for a person, a goodbye. Those
decide here; everything else is the model's (it answers in words, or calls a tool
the policy does not understand through its own chat template).

- A tool whose one required parameter is a number (by type, pattern, or a name or
  description that says number/id/code) is called when the caller's latest turn
  holds one (said in any form: agents/numbers.py; or keyed in). Arguments come from
  the caller's words, never from the model: nothing invented.
- transfer_call, when the caller asks for a person and one target is allowed.
- end_call, when the caller says goodbye and asks nothing more.
- Any other tool whose every required value is in the caller's latest turn for certain: a number for
  each number parameter, one of the listed choices named for each choice parameter, at least one
  number among them (a lost card "ending in 4321" for freeze_card(last_four, reason: lost|stolen)).
  A free-text value (a name, a city) is never taken from the words here: such tools stay the model's.
"""

import json
import re
from dataclasses import dataclass

from agents.intents import says_goodbye, wants_person
from agents.numbers import numbers_in
from agents.providers.llm.base import Message, ToolCallRequest, ToolSpec
from agents.providers.llm.toolcalls import new_call_id

CALL_CONTROL = ("transfer_call", "end_call", "send_dtmf")
KEYED = re.compile(r"^caller pressed ([0-9*#A-D]+)$")  # agents/conversation.py: a DTMF turn's text
_NUMBERISH = re.compile(r"\b(number|numbers|id|ids|code|digits?|no\.?|#|nummer|número|numéro)\b", re.IGNORECASE)
_TARGET = re.compile(r"\+[1-9]\d{1,14}\b|\bsips?:[^\s,;]+")
MIN_DIGITS = 3  # "one question", "2 items": shorter numbers are not ids


@dataclass(frozen=True)
class Decision:
    """`call`: run this now (arguments from the caller's words); None: the model answers (`tools` it may still call)."""

    call: ToolCallRequest | None
    tools: list[ToolSpec]
    reason: str = ""
    ask: ToolSpec | None = None  # ask the caller for this tool's number (they asked about its subject without one)


def decide(messages: list[Message], tools: list[ToolSpec]) -> Decision:
    """The decision for the reply to the caller's latest turn. Tools decided here are not offered to the model."""
    by_name = {t.name: t for t in tools}
    number_tools = [t for t in tools if t.name not in CALL_CONTROL and number_parameter(t) is not None]
    rest = model_tools(tools)
    latest = messages[-1] if messages else None
    if latest is None or latest.role != "user" or not tools:
        return Decision(None, rest, "after a result")  # round two answers the caller from what a tool found
    text = latest.content

    keyed = KEYED.match(text.strip())
    numbers = [n for n in numbers_in(keyed.group(1) if keyed else text) if len(n) >= MIN_DIGITS]
    if numbers and len(number_tools) == 1:
        tool = number_tools[0]
        fitting = [n for n in numbers if _fits(tool, n)]
        if fitting:
            return Decision(_call(tool.name, {number_parameter(tool): _typed(tool, fitting[-1])}), [], "number")
    if "transfer_call" in by_name and wants_person(text):
        targets = transfer_targets(by_name["transfer_call"])
        if len(targets) == 1:
            return Decision(_call("transfer_call", {"target": targets[0]}), [], "person")
    if "end_call" in by_name and says_goodbye(text) and not numbers:
        return Decision(_call("end_call", {}), [], "goodbye")
    # Tools with several values: left to it, the 0.5B model answered "I'm sorry, I can't assist with that" to
    # "I lost my card, it ends in 4321" (tests/perf/tool_args_eval.py).
    filled = [call for t in rest if t.name not in CALL_CONTROL and (call := _filled(t, text)) is not None]
    if len(filled) == 1 and not keyed:
        return Decision(filled[0], [], "values")
    # A caller who asks about the one number tool's subject ("Where is my order?") without a number, before
    # anything was looked up, is asked for it: left to the model, the 0.5B model gave advice, said it could not
    # help, or invented a delivery date about as often as it asked (parley eval, no-number calls).
    if (len(number_tools) == 1 and not numbers and not any(m.role == "tool" for m in messages)
            and subject_words(number_tools[0]) & _words(text)):
        return Decision(None, rest, "ask", ask=number_tools[0])
    # Otherwise number tools need a number; without one the model asks for it (told so by the answer prompt).
    if len(number_tools) > 1 and numbers:
        return Decision(None, rest + number_tools, "model")  # which of several number tools: the model chooses
    return Decision(None, rest, "model")


def model_tools(tools: list[ToolSpec]) -> list[ToolSpec]:
    """The tools the model is offered when the policy leaves a turn to it: all but those it understands itself
    (number look-ups, end_call, a transfer to the one target). The same on every such turn of a session, so the
    prompt the LLM reads ahead of the caller (warm_up) is the one its replies start with."""
    by_name = {t.name: t for t in tools}
    understood = {t.name for t in tools if t.name not in CALL_CONTROL and number_parameter(t) is not None}
    understood |= {n for n in CALL_CONTROL if n in by_name}
    rest = [t for t in tools if t.name not in understood]
    if "transfer_call" in by_name and len(transfer_targets(by_name["transfer_call"])) != 1:
        rest.append(by_name["transfer_call"])  # several targets (or none known): the model picks one
    return rest


_VERBS = {"look", "lookup", "up", "get", "find", "check", "search", "fetch", "query", "read", "show", "track",
          "status", "info", "details", "detail", "by", "id", "number", "for", "the", "a", "of"}


def subject_words(tool: ToolSpec) -> set[str]:
    """What a tool is about, from its name: lookup_order -> {"order", "orders"}; getTicketStatus -> ticket(s)."""
    parts = re.findall(r"[A-Z]?[a-z]+", tool.name.replace("_", " ").replace("-", " "))
    nouns = {p.lower() for p in parts} - _VERBS
    return {w for n in nouns if len(n) > 2 for w in (n, n + "s")}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def number_parameter(tool: ToolSpec) -> str | None:
    """The one required parameter of `tool` if it takes a number (an order, ticket or account number)."""
    schema = tool.parameters or {}
    required = schema.get("required") or []
    if len(required) != 1:
        return None
    name = required[0]
    prop = (schema.get("properties") or {}).get(name) or {}
    kind = prop.get("type")
    if kind in ("integer", "number"):
        return name
    if kind not in (None, "string") or prop.get("enum"):
        return None
    pattern = prop.get("pattern") or ""
    if re.fullmatch(r"\^?(\\d|\[0-9\])[+*{].*", pattern):
        return name
    words = f"{name.replace('_', ' ')} {prop.get('description', '')}"
    return name if _NUMBERISH.search(words) else None


def _filled(tool: ToolSpec, text: str) -> ToolCallRequest | None:
    """A call of `tool` with every required value read for certain from `text`, or None (see the module)."""
    schema = tool.parameters or {}
    required = schema.get("required") or []
    properties = schema.get("properties") or {}
    if not required or len(required) > 4 or not isinstance(properties, dict):
        return None
    numbers = numbers_in(text)
    arguments: dict = {}
    anchored = False
    for name in required:
        prop = properties.get(name)
        if not isinstance(prop, dict):
            return None
        if isinstance(prop.get("enum"), list):
            named = [c for c in prop["enum"] if isinstance(c, str) and _names(text, c)]
            if len(named) != 1:
                return None
            arguments[name] = named[0]
            continue
        fitting = [n for n in numbers if n not in arguments.values() and _number_fits(prop, name, n)]
        if len(set(fitting)) != 1:
            return None
        arguments[name] = int(fitting[0]) if prop.get("type") in ("integer", "number") else fitting[0]
        anchored = True
    return _call(tool.name, arguments) if anchored else None


def _names(text: str, choice: str) -> bool:
    """`text` says the choice as a whole word or phrase ("phone line" for phone_line)."""
    phrase = re.sub(r"[_-]+", " ", choice).strip()
    return bool(phrase) and re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE) is not None


def _number_fits(prop: dict, name: str, number: str) -> bool:
    """`number` (digits) can be this parameter: an integer within its range, or an id-like string matching its pattern."""
    kind = prop.get("type")
    if kind in ("integer", "number"):
        value = int(number)
        low, high = prop.get("minimum"), prop.get("maximum")
        return (low is None or value >= low) and (high is None or value <= high)
    if kind not in (None, "string"):
        return False
    if prop.get("pattern"):
        return _matches(prop["pattern"], number, broken=False)
    return len(number) >= MIN_DIGITS and bool(_NUMBERISH.search(f"{name.replace('_', ' ')} {prop.get('description', '')}"))


def _fits(tool: ToolSpec, number: str) -> bool:
    name = number_parameter(tool)
    prop = ((tool.parameters or {}).get("properties") or {}).get(name) or {}
    return _matches(prop["pattern"], number, broken=True) if prop.get("pattern") else True


def _matches(pattern: str, number: str, *, broken: bool) -> bool:
    """Whether `number` matches `pattern`; `broken` when the pattern does not compile."""
    try:
        return re.search(pattern, number) is not None
    except re.error:
        return broken


def _typed(tool: ToolSpec, number: str) -> str | int:
    prop = ((tool.parameters or {}).get("properties") or {}).get(number_parameter(tool)) or {}
    return int(number) if prop.get("type") in ("integer", "number") else number


def transfer_targets(tool: ToolSpec) -> list[str]:
    """Where transfer_call may go, as the session allowed them (`examples`, or listed in the description)."""
    prop = ((tool.parameters or {}).get("properties") or {}).get("target") or {}
    if isinstance(prop.get("examples"), list):
        return [str(t) for t in prop["examples"]]
    described = prop.get("description", "")
    allowed = described.split("allowed:", 1)[1] if "allowed:" in described else ""
    return _TARGET.findall(allowed)


def _call(name: str, arguments: dict) -> ToolCallRequest:
    return ToolCallRequest(new_call_id(), name, json.loads(json.dumps(arguments)))
