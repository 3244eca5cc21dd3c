"""An answer after a look-up must say what the look-up found: its first sentence is checked, a plain one stands in.

Measured with `parley eval` (typed, 41 tuned calls): after a tool result the 0.5B
model said the result's facts in about three calls of four; in the others it
greeted the caller again ("Thanks for calling Acme, how can I help?"), asked what
they wanted to know, or read its own notes. The first sentence of such an answer
must carry the result's leading fact (its first text value the caller did not
say themselves, e.g. the status); if it does not, the model's words are dropped
and a sentence made from the result itself is said instead: plain, but true.
"""

import json
import re
from dataclasses import dataclass, field

from agents.providers.llm.base import TextDelta

_SENTENCE_END = re.compile(r"[.!?](\s|$)")
_MESSAGE_KEYS = ("message", "error", "detail")


def leading_fact(content: str, arguments: dict) -> str | None:
    """The first text value of a tool result (JSON object) that is not one of the call's own arguments."""
    result = _object(content)
    given = {str(v).lower() for v in arguments.values()}
    for key, value in (result or {}).items():
        if isinstance(value, str) and value.strip() and value.lower() not in given and key not in _MESSAGE_KEYS:
            return value
    return None


def fact_sentence(content: str, arguments: dict) -> str:
    """The result as one sentence: its own message if it has one, else its facts ("status shipped, carrier UPS")."""
    result = _object(content) or {}
    for key in _MESSAGE_KEYS:
        if isinstance(result.get(key), str) and result[key].strip():
            return result[key].strip()
    given = {str(v).lower() for v in arguments.values()}
    parts = []
    for key, value in result.items():
        if value is None or isinstance(value, bool) or str(value).lower() in given:
            continue
        shown = " and ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"the {key.replace('_', ' ')} {'are' if isinstance(value, list) else 'is'} {shown}")
    about = " ".join(str(v) for v in arguments.values())
    return f"For {about}, {', '.join(parts)}." if parts and about else (f"{', '.join(parts)}.".capitalize() if parts else "")


@dataclass
class GroundedAnswer:
    """Holds an answer's text until its first sentence is complete, then lets it through or replaces it."""

    fact: str
    fallback: str
    _held: str = ""
    _decided: bool | None = None  # None: first sentence still coming; True: model's words; False: replaced
    replaced: bool = field(default=False, init=False)

    def feed(self, delta: TextDelta) -> list[TextDelta]:
        if self._decided is True:
            return [delta]
        if self._decided is False:
            return []
        self._held += delta.text
        match = _SENTENCE_END.search(self._held)
        return self._decide(self._held[:match.end()]) if match else []

    def finish(self) -> list[TextDelta]:
        if self._decided is None:
            return self._decide(self._held)
        return []

    def _decide(self, first: str) -> list[TextDelta]:
        grounded = self.fact.lower() in first.lower()
        self._decided = grounded or not self.fallback
        if self._decided:
            return [TextDelta(self._held)] if self._held else []
        self.replaced = True
        return [TextDelta(self.fallback)]


def _object(content: str) -> dict | None:
    try:
        value = json.loads(content)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
