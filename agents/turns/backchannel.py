"""Was speech over the assistant an interruption, or only "mm-hmm"? Judged on the words Whisper heard.

A listener's sound carries no request: a few listener words ("okay", "yeah", "right"), a hum however
Whisper spells it, a lone "And..." or "Um". Anything else (a word with content, a question) is an
interruption.
"""

import re

from agents.turns.words import words

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
# A caller who says only "And..." or "Um" over the assistant and stops has not taken the turn; "and then"
# asks the speaker to go on.
_FILLERS = frozenset({"and", "so", "but", "um", "uh", "er", "erm", "ehm", "well", "then"})
# What Whisper tiny.en writes for a hum or a "yeah" it did not catch over a phone line (tests/perf/
# backchannel_bench.py: "Hmm." -> "him", "Mm." -> "in", "Yep." -> "Yap.", "Uh-huh." -> "Uh-oh."). Said alone,
# none of them asks the assistant anything.
_MISHEARD = frozenset({"him", "them", "in", "amen", "yay", "yap", "yip", "yah", "ya", "yea", "wow"})


def is_backchannel(text: str, language: str = "en") -> bool:
    """True for "", noise, or a few listener words ("mm-hmm", "yeah okay"): not worth stopping for."""
    said = words(text)
    if not said:
        return True
    if len(said) > _MAX_BACKCHANNEL_WORDS:
        return False
    if all(len(w) == 1 and w.isalpha() for w in said) and len(said) > 1:
        return True  # letters, not words: a hum spelled out ("M.A.M.", "M M M")
    vocabulary = _BACKCHANNELS.get(language, frozenset()) | _BACKCHANNELS["en"] & {"mm", "mhm", "hmm", "ok", "okay"}
    if language == "en":
        vocabulary |= _FILLERS | _MISHEARD
    return all(_listeners(w, vocabulary) for w in said)


def _listeners(word: str, vocabulary: frozenset[str]) -> bool:
    """A listener's word, a hum, or listener words joined ("uh-oh", "yeah-yeah") or stuttered ("g-g-g")."""
    if word in vocabulary or (_HUM.fullmatch(word) and word not in _NOT_HUMS):
        return True
    parts = word.split("-")
    return len(parts) > 1 and (all(p in vocabulary for p in parts) or len(set(parts)) == 1 and len(parts[0]) == 1)
