"""Judging words, not just silence: is the caller done, and was that an interruption or only "mm-hmm"?

Both judgements read a transcript (Whisper's, with its punctuation) and are
plain functions so the rules can be read and tested on their own. They are
heuristics, tuned for the phone: a caller reading out digits pauses between
them, a caller asking a question is done when the question mark comes.
"""

import re
from enum import Enum


class Completeness(Enum):
    COMPLETE = "complete"  # a finished question or sentence: answer after a short pause
    NEUTRAL = "neutral"  # no clue either way: the usual pause
    INCOMPLETE = "incomplete"  # digits, "and", "um", a trailing comma: the caller is likely to go on


# Words that, said on their own while the assistant talks, mean "go on", not "stop".
# Whisper also writes short noises as one of these ("Thank you.", "you"), which are no more an
# interruption than a cough.
_BACKCHANNELS: dict[str, frozenset[str]] = {
    "en": frozenset({
        "mm", "mmm", "hmm", "mhm", "mm-hmm", "mmhmm", "uh-huh", "uh", "huh", "um", "ah", "oh", "yeah",
        "yep", "yup", "yes", "ok", "okay", "right", "sure", "alright", "i", "see", "got", "it", "cool",
        "great", "thanks", "thank", "you", "nice", "good",
    }),
    "de": frozenset({"mhm", "hm", "hmm", "ja", "jaja", "genau", "okay", "ok", "aha", "ah", "gut", "klar", "stimmt"}),
    "fr": frozenset({"mhm", "hm", "hmm", "oui", "ouais", "d'accord", "ok", "okay", "ah", "bon", "voilà", "merci"}),
    "es": frozenset({"mhm", "hm", "hmm", "sí", "si", "vale", "ajá", "aja", "ok", "okay", "claro", "ya", "bueno"}),
    "it": frozenset({"mhm", "hm", "hmm", "sì", "si", "certo", "ok", "okay", "ah", "va", "bene", "esatto", "già"}),
    "pt": frozenset({"mhm", "hm", "hmm", "sim", "tá", "ok", "okay", "claro", "certo", "ah", "é"}),
    "nl": frozenset({"mhm", "hm", "hmm", "ja", "oké", "ok", "okay", "precies", "klopt", "ah"}),
}
_MAX_BACKCHANNEL_WORDS = 3
# A hum however Whisper spells it ("Mm-mm", "M-M-M-M", "Mmmmm", "Emm", "Uh-uh"): no word, no interruption.
_HUM = re.compile(r"[ehmnu]+(?:-[ehmnu]+)*")
_NOT_HUMS = frozenset({"he", "me", "men", "hen", "menu", "nun", "hue", "emu", "hem", "en", "ne", "nu"})
# A caller who says only "And..." or "Um" over the assistant and stops has not taken the turn.
_FILLERS = frozenset({"and", "so", "but", "um", "uh", "er", "erm", "ehm", "well"})

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
_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.lower().strip("-'") for w in _WORD.findall(text) if w.strip("-'")]


def is_backchannel(text: str, language: str = "en") -> bool:
    """True for "", noise, or a few listener words ("mm-hmm", "yeah okay"): not worth stopping for."""
    said = words(text)
    if not said:
        return True
    vocabulary = _BACKCHANNELS.get(language, frozenset()) | _BACKCHANNELS["en"] & {"mm", "mhm", "hmm", "ok", "okay"}
    if language == "en":
        vocabulary |= _FILLERS
    return len(said) <= _MAX_BACKCHANNEL_WORDS and all(
        w in vocabulary or (_HUM.fullmatch(w) and w not in _NOT_HUMS) for w in said)


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
