"""Transcript completeness: does what the caller said so far sound finished? One vote on the end of turn.

Reads the transcript taken in a pause (Whisper's, with its punctuation). Heuristics
tuned for the phone: a caller reading out digits pauses between them, a caller
asking a question is done when the question mark comes.
"""

import re

from agents.turns.base import Completeness
from agents.turns.words import words


# Trailing words after which a speaker usually goes on.
_CONTINUERS: dict[str, frozenset[str]] = {
    "en": frozenset({
        "and", "or", "but", "so", "because", "the", "a", "an", "my", "your", "is", "are", "was", "to", "of",
        "for", "with", "um", "uh", "er", "like", "then", "if", "that", "it's",
    }),
}
_NUMBER_WORDS = frozenset({
    "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
    "un", "deux", "trois", "quatre", "cinq", "sept", "huit", "neuf",
    "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "cero",
})


def _is_number(word: str) -> bool:
    return word.isdigit() or word in _NUMBER_WORDS or bool(re.fullmatch(r"[\d-]+", word))


def _trailing_digits(said: list[str]) -> int:
    count = 0
    for word in reversed(said):
        if not _is_number(word):
            break
        count += sum(c.isdigit() for c in word) or 1  # "four" is one digit
    return count


def completeness(text: str, language: str = "en") -> Completeness:
    """How finished an utterance sounds, from its transcript so far."""
    stripped = text.strip()
    said = words(stripped)
    if not said:
        return Completeness.NEUTRAL
    last = said[-1]
    if stripped.endswith(("?", "？")):
        return Completeness.COMPLETE
    if _is_number(last):
        # Digits read out come with pauses between them. A run of four or more that ends like a
        # sentence (an order number, a year, the end of a phone number) is likely whole: the usual
        # wait, not the long one.
        whole = _trailing_digits(said) >= 4 and stripped.endswith((".", "。", "!"))
        return Completeness.NEUTRAL if whole else Completeness.INCOMPLETE
    if stripped.endswith((",", "...", "…", "-", ":")) or last in _CONTINUERS.get(language, frozenset()):
        return Completeness.INCOMPLETE
    if stripped.endswith(("!", ".", "。", "！")):
        return Completeness.COMPLETE
    return Completeness.NEUTRAL


class TranscriptCompleteness:
    """The end-of-turn strategy that votes on the words: see `completeness`."""

    name = "transcript"

    def vote(self, transcript: str, language: str) -> Completeness:
        return completeness(transcript, language)
