"""Whether a sentence the model wrote may be spoken to the caller: no prompt echoes, tool talk or transcript labels.

A small local model sometimes reads out what it was shown instead of talking to
the caller: the engine's own rules, a tool's description, the transcript format
("You: ..."), or it describes a tool instead of calling it. The guard judges one
sentence at a time (as Reply queues them for TTS) against what the model was
actually given, so it needs no copy of the engine's prompt texts.

Engine text (notes the engine or provider adds, tool and parameter descriptions)
is never sayable. The operator's persona prompt is: its facts ("The shop is open
Monday to Saturday, 9 am to 6 pm") are what the agent is there to say, so only a
persona *instruction* echoed in the instruction's own voice ("You are Sam, ...",
"Keep every answer short", "... tell the caller ...") is refused.

A number of two or more digits that nothing in the conversation holds (the
prompt, the caller's words, a tool's result) is invented: asked about an order
it had not looked up, the 0.5B model said "Order 1234 will be delivered on
Monday, June 15th, 2023" (parley eval). Such a sentence is refused too, when it
is about what the tools look up (the same agent telling the history of the
telephone may say "1876").
"""

import functools
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from agents.numbers import numbers_in
from agents.providers.llm.base import Message, ToolSpec

# Measured on tests/unit/agents/test_reply_guard.py's examples: a copied run of 5+ words covering
# 70% of the sentence, or 8+ words anywhere, is an echo; "I can look up an order by its number"
# (6 of 9 words from lookup_order's description) still passes.
ECHO_MIN_RUN = 5
ECHO_LONG_RUN = 8
ECHO_COVERAGE = 0.7
PERSONA_COVERAGE = 0.8  # of a sentence in an instruction's voice, copied from the persona's instructions
_GRAM = 3  # copied runs are found through shared word trigrams

_DIGIT_RUN = re.compile(r"\d+")
MIN_INVENTED_DIGITS = 2  # "one moment", "2 days" are how people talk; "June 15th, 2023" is a claim
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_FORMAT_FIELD = re.compile(r"\{\w*\}")
_OWN_LABEL = re.compile(r"^\s*[*_\-\s]*(?:you|assistant|agent|ai|bot)\s*[*_]*\s*[:：][*_]*\s*", re.IGNORECASE)
_OTHER_LABEL = re.compile(r"^\s*[*_\-\s]*(?:caller|user|customer|human|system|tool)\s*[*_]*\s*[:：]", re.IGNORECASE)
_CODE = re.compile(r"[{}\[\]<>`|\\]|\w\(|\"\w+\"\s*:")
_IDENTIFIER = re.compile(r"\b[A-Za-z]\w*_\w+\b|\b[a-z]{2,}[A-Z]\w*\b")  # lookup_order, lookupOrder (not iPhone)
_TOOL_WORDS = re.compile(
    r"\b(?:functions?|json|parameters?|arguments?|api|schema|tool ?calls?)\b"
    r"|\b(?:call|calls|calling|called|use|using|invoke|invoking|run|running|execute|executing|trigger)\s+"
    r"(?:the\s+|a\s+|an\s+|my\s+|this\s+|that\s+)?(?:[\w-]+\s+){0,2}tools?\b"
    r"|\b(?:available|the|my|these|those)\s+tools\b|\btools?\s+(?:call|list|available)\b",
    re.IGNORECASE,
)
# The caller in the third person: how instructions speak, never how an agent talks to a caller.
_ABOUT_CALLER = re.compile(r"\bthe (?:caller|user)s?\b(?!\s+(?:manual|guide|account|interface|name|id)s?\b)",
                           re.IGNORECASE)
_INSTRUCTION_VOICE = re.compile(
    r"^\s*(?:you are|you're|you help|you work|you will|you must|you should|your (?:job|role|task|goal|name)|"
    r"keep|never|always|do not|don't|only|be|answer|respond|reply|make sure|remember|use|if|when)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """`ok`: `text` may be spoken (labels stripped). Otherwise `reason` says why not:
    "unspeakable", "tool_talk", "transcript", "instructions", "echo" or "invented"."""

    ok: bool
    text: str = ""
    reason: str | None = None


def _stem(word: str) -> str:
    word = word.lower().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    for suffix, keep in (("ing", 3), ("ed", 3), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            return word[: -len(suffix)]
    return word


_QUALIFIER_SPLIT = re.compile(r"[,;:(\[]| - | e\.g\.| such as ")


def words(text: str) -> list[str]:
    """Lower-case, lightly stemmed words ("Looking" and "look" match); punctuation and format fields dropped."""
    return [_stem(w) for w in _WORD.findall(_FORMAT_FIELD.sub(" ", text))]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]


class _Source:
    """Texts a sentence must not copy, as word trigrams."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.grams: set[tuple[str, ...]] = set()
        for text in texts:
            for part in _sentences(text):
                w = words(part)
                self.grams.update(tuple(w[i:i + _GRAM]) for i in range(len(w) - _GRAM + 1))

    def copied(self, sentence: list[str]) -> tuple[int, float]:
        """(longest copied run in words, fraction of the sentence's words inside copied runs)."""
        if not self.grams or len(sentence) < _GRAM:
            return 0, 0.0
        hits = [tuple(sentence[i:i + _GRAM]) in self.grams for i in range(len(sentence) - _GRAM + 1)]
        covered = [False] * len(sentence)
        longest = run = 0
        for i, hit in enumerate(hits):
            run = run + 1 if hit else 0
            longest = max(longest, run + _GRAM - 1 if run else 0)
            if hit:
                covered[i:i + _GRAM] = [True] * _GRAM
        return longest, sum(covered) / len(sentence)


@functools.lru_cache(maxsize=256)
def _source(texts: tuple[str, ...]) -> _Source:
    """The same persona, tools and notes on every reply of every call: their trigrams are made once (read only).
    Made per reply, they were a few per cent of a talking call's CPU (tests/perf/capacity_bench.py)."""
    return _Source(texts)


class ReplyGuard:
    """Judges sentences for one reply. Pure and synchronous; build one per reply (cheap: a few sets).

    `engine_text`: everything the engine or provider put in the prompt besides the
    persona (rules, notes, the language line); `tools`: the tools offered (their
    names, descriptions and parameter descriptions are engine text too);
    `persona`: the operator's system prompt; `known`: every text of the
    conversation whose numbers may be said (None: numbers are not checked);
    `numbers_about`: only sentences with one of these words are checked.
    """

    def __init__(self, *, engine_text: Iterable[str] = (), tools: Sequence[ToolSpec] = (), persona: str = "",
                 known: Iterable[str] | None = None, numbers_about: Iterable[str] = ()) -> None:
        texts = list(engine_text)
        names: set[str] = set()
        for tool in tools:
            names.add(tool.name.lower())
            texts.append(tool.description)
            texts.extend(_descriptions(tool.parameters))
        self._names = names
        self._engine = _source(tuple(texts))
        # What a parameter's description says to the model after the thing itself ("the order number, digits
        # only"): a reply that says it ("you need to provide the order number, digits only", heard in `parley
        # bench latency`) reads the engine's instructions aloud, however short the sentence around it.
        self._qualifiers = [q for tool in tools for d in _descriptions(tool.parameters) if len(q := _qualifier(d)) >= 2]
        self._persona = _source(tuple(s for s in _sentences(persona) if _is_instruction(s)))
        self._numbers: set[str] | None = None
        self._about = frozenset(numbers_about)  # empty: numbers in any sentence are checked
        # A reply's first clause is spoken on its own ("Your order," then "5678 arrives Monday."): the rest of
        # its sentence is judged with it, or a number after the clause would escape the "order" sentences.
        self._clause = ""
        if known is not None:
            self._numbers = set()
            for text in known:
                self.learn(text)

    def learn(self, text: str) -> None:
        """Numbers in `text` (a tool's result that came in during the reply) may be said from now on."""
        if self._numbers is not None:
            self._numbers.update(numbers_in(text))
            self._numbers.update(_DIGIT_RUN.findall(text))

    @classmethod
    def for_messages(cls, messages: Sequence[Message], tools: Sequence[ToolSpec], persona: str,
                     notes: Iterable[str] = (), numbers_about: Iterable[str] = ()) -> "ReplyGuard":
        """A guard for a reply to `messages` (as the engine built them, system prompt first) with `tools`
        offered. Whatever system text is not the `persona` prompt is the engine's; `notes` are texts a
        provider adds on its own (chatformat's rules and notes). `numbers_about`: words ("order") whose
        sentences may only hold numbers the conversation holds; none: numbers are not checked."""
        engine_text = list(notes)
        for m in messages:
            if m.role == "system":
                engine_text.append(m.content.replace(persona, " ") if persona else m.content)
        known = [m.content for m in messages] + [json.dumps(c.arguments) for m in messages for c in m.tool_calls]
        subjects = frozenset(w.lower() for w in numbers_about)
        return cls(engine_text=engine_text, tools=tools, persona=persona, known=known if subjects else None,
                   numbers_about=subjects)

    def check(self, sentence: str, goes_on: bool | None = None) -> Verdict:
        """Whether `sentence` (a sentence, or a reply's first clause, then the rest of that sentence) may be said.
        `goes_on`: the sentence continues in the next piece (None: if it ends with a clause mark)."""
        verdict = self._check(sentence, self._clause)
        if goes_on is None:
            goes_on = verdict.text.endswith((",", ":", ";", "，", "、"))
        ended = not verdict.ok or not goes_on
        self._clause = "" if ended else f"{self._clause} {verdict.text}".strip()
        return verdict

    def _check(self, sentence: str, clause: str) -> Verdict:
        text = sentence.strip()
        while (label := _OWN_LABEL.match(text)) is not None:
            text = text[label.end():].strip()  # "You: Your order has shipped." -> the words after the label
        if not any(ch.isalnum() for ch in text):
            return Verdict(False, reason="unspeakable")
        whole = f"{clause} {text}" if clause else text  # the sentence so far, for the checks that read it whole
        if _OTHER_LABEL.match(text):
            return Verdict(False, reason="transcript")  # the model is writing the caller's (or a note's) part
        if _CODE.search(text) or _IDENTIFIER.search(text) or _TOOL_WORDS.search(text) or self._names_tool(text):
            return Verdict(False, reason="tool_talk")
        if _ABOUT_CALLER.search(text):
            return Verdict(False, reason="instructions")
        w = words(whole)
        if any(_contains(w, q) for q in self._qualifiers):
            return Verdict(False, reason="echo")
        run, coverage = self._engine.copied(w)
        if run >= ECHO_LONG_RUN or (run >= ECHO_MIN_RUN and coverage >= ECHO_COVERAGE):
            return Verdict(False, reason="echo")
        if _INSTRUCTION_VOICE.match(text):
            run, coverage = self._persona.copied(w)
            if run >= ECHO_MIN_RUN and coverage >= PERSONA_COVERAGE:
                return Verdict(False, reason="instructions")
        if self._numbers is not None and self._is_about(whole) and any(
                len(n) >= MIN_INVENTED_DIGITS and n not in self._numbers for n in numbers_in(text)):
            return Verdict(False, reason="invented")
        # A caller's own sentence said back is odd but not a leak: refusing it made the 0.5B model, which
        # often starts by repeating the question, fall back to "Sorry, could you say that again?" in German
        # (test_languages' spoken round trip), so it is let through.
        return Verdict(True, text)

    def _is_about(self, text: str) -> bool:
        return not self._about or bool(self._about & {w.lower() for w in _WORD.findall(text)})

    def _names_tool(self, text: str) -> bool:
        """A tool's name written as an identifier: "lookup_order" (caught above), "lookupOrder", "weather(".
        A plain-word name ("weather") is only tool talk next to "tool"/"function", caught above."""
        lowered = text.lower()
        return any(name in lowered for name in self._names if not name.isalpha())


def _qualifier(description: str) -> list[str]:
    """The words of a parameter description after the thing it names: "the order number, digits only" ->
    ["digit", "only"] (stemmed); the split is value_phrase's (agents/tools/spec.py), which asks for the rest."""
    parts = _QUALIFIER_SPLIT.split(description, maxsplit=1)
    return words(parts[1]) if len(parts) == 2 else []


def _contains(sentence: list[str], run: list[str]) -> bool:
    n = len(run)
    return any(sentence[i:i + n] == run for i in range(len(sentence) - n + 1))


def _is_instruction(sentence: str) -> bool:
    return bool(_INSTRUCTION_VOICE.match(sentence) or _ABOUT_CALLER.search(sentence))


def _descriptions(schema: object) -> list[str]:
    """Every "description" in a JSON Schema, nested ones too."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "description" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_descriptions(value))
    elif isinstance(schema, list):
        for item in schema:
            found.extend(_descriptions(item))
    return found
