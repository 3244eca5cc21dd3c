"""Recognition hints: the words a session expects to hear, as one prompt a recogniser can be primed with.

A session's vocabulary (product names, places, jargon: POST /v1/conversations/create
`vocabulary`, or the persona's) and the words of its tools (names and
parameters: "check_order_status(order_number)" -> "check order status",
"order number") are the words its callers are likely to say. Whisper takes
them as "previous text" (an initial prompt): it then favours those spellings.
"""

import re
from collections.abc import Iterable, Mapping

MAX_VOCABULARY = 100  # words or phrases a session may declare
MAX_TERM_CHARS = 64
# Whisper's prompt may hold half its 448-token context; ~4 characters a token, and
# the session's own words come first, so a long tool list is what gets cut.
MAX_PROMPT_CHARS = 600

_SPLIT = re.compile(r"[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])")


def words_of_name(name: str) -> str:
    """An identifier as words: "check_order_status" / "checkOrderStatus" -> "check order status"."""
    return " ".join(part.lower() for part in _SPLIT.split(name) if part)


def tool_words(tools: Iterable) -> list[str]:
    """Names, parameter names and string enum values of tools (anything with `name` and a JSON Schema `parameters`)."""
    out: list[str] = []
    for tool in tools:
        out.append(words_of_name(tool.name))
        schema = getattr(tool, "parameters", None) or {}
        properties = schema.get("properties") if isinstance(schema, Mapping) else None
        for parameter, spec in (properties or {}).items():
            out.append(words_of_name(parameter))
            for value in (spec.get("enum") or ()) if isinstance(spec, Mapping) else ():
                if isinstance(value, str):
                    out.append(value)
    return out


def session_vocabulary(vocabulary: Iterable[str] = (), tools: Iterable = (), language: str = "en") -> tuple[str, ...]:
    """The session's declared vocabulary first, then its tools' words (English sessions only: tool names are
    English identifiers, which would pull another language's transcript towards English); blanks and
    repeats (any case) dropped."""
    seen: set[str] = set()
    out: list[str] = []
    for term in [*vocabulary, *(tool_words(tools) if language == "en" else ())]:
        term = " ".join(str(term).split())
        if term and term.lower() not in seen:
            seen.add(term.lower())
            out.append(term)
    return tuple(out)


def vocabulary_prompt(vocabulary: Iterable[str], base: str | None = None) -> str | None:
    """`base` (a fixed prompt) then the terms as a comma list ending in a full stop, at most MAX_PROMPT_CHARS;
    None when there is nothing to say."""
    parts = [base.strip()] if base and base.strip() else []
    used = len(parts[0]) if parts else 0
    terms: list[str] = []
    for term in session_vocabulary(vocabulary):
        if used + len(term) + 2 > MAX_PROMPT_CHARS:
            break
        terms.append(term)
        used += len(term) + 2
    if terms:
        parts.append(", ".join(terms) + ".")
    return " ".join(parts) or None
