"""Cut a streaming LLM reply into speakable pieces, so TTS can start on the first one."""

import re

# A sentence ends at . ! ? … followed by whitespace, with any closing quotes or brackets kept on it
# (French sets » and ! apart with spaces: « Bonjour ! » ends after the »); at a CJK full stop 。！？
# with or without whitespace; or at a newline. Not after a lone capital ("J. Smith"), a common
# abbreviation, or inside a number ("3.5"). Spanish ¿ ¡ open the next sentence, so nothing to do there.
_CLOSE = "\"')\\]»”’」』"
_END = re.compile(rf"(?<=[.!?…])(?P<close>(?:\s*[{_CLOSE}])*)\s+|(?<=[。！？])(?P<cjk>[{_CLOSE}]*)\s*|\n+")
_ABBREVIATIONS = {
    "mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.", "vs.", "no.", "approx.",  # English
    "sr.", "sra.", "srta.", "dra.", "ud.", "uds.", "p.ej.",  # Spanish
    "z.b.", "bzw.", "usw.", "nr.", "ca.", "evtl.", "ggf.", "inkl.",  # German
    "mme.", "mlle.", "env.", "cf.",  # French
    "sig.", "dott.", "ecc.",  # Italian
}
# First-piece cut points: a comma, colon or semicolon and a space, or a CJK comma: "I looked up 1234 and found:"
# goes first (six words to synthesise, not ten), then the facts as one sentence.
_EARLY_CUT = re.compile(r"[,:;]\s|[，、]")
_LABEL_MAX_WORDS = 2
# Else before a number, after three words: "My opening hours are" goes first, then "9 AM to 5 PM." Three words
# are about a second of speech, time enough for the rest to be written and synthesised; Piper joe's two pieces
# read back as the whole sentence did, a ~0.15 s pause before the number (tests/perf/first_piece_probe.py).
_NUMBER_CUT = re.compile(r"\s(?=\d)")
_NUMBER_CUT_MIN_WORDS = 3


class SentenceSplitter:
    """Feed text deltas; get complete sentences as soon as they end.

    The first piece of a reply is cut early at its first clause, a comma after
    at least `first_min_words` words (a colon or semicolon after three: not
    after a speaker label such as "You:"), or, in text without spaces such as
    Chinese, a CJK comma after `first_min_words` * 3 characters; with no clause
    mark, before a number after three words (`goes_on` says the piece's sentence
    goes on, for the reply guard): the caller hears "Yes," while
    the model is still writing "you can pay by card." (`parley bench latency
    --questions ordinary`: the first answer audio came ~0.2 s sooner, see the
    README's Latency section). Later pieces are whole sentences, for prosody.
    """

    def __init__(self, first_min_words: int = 1) -> None:
        self._buffer = ""
        self._first = True
        self.first_min_words = first_min_words
        self.goes_on = False  # the last piece returned was cut before its sentence ended

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        pieces: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            if match.end() == len(self._buffer) or self._buffer[match.end()] in _CLOSE:
                break  # the next delta may still bring a closing » or a lower-case word: decide then (or at flush)
            if match.group("close") is not None and self._buffer[match.end()].islower():
                continue  # "at 5 p.m. tomorrow", "e.g. this"
            close = match.group("close") or match.group("cjk") or ""
            candidate = self._buffer[start:match.start() + len(close)].strip()
            last_word = self._buffer[start:match.start()].rsplit(None, 1)[-1].lower() if candidate else ""
            if last_word in _ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", last_word.upper()) and len(last_word) == 2:
                continue
            if candidate:
                pieces.append(candidate)
            start = match.end()
        self._buffer = self._buffer[start:]
        self.goes_on = False
        if self._first and not pieces:
            cut = self._early_cut() or self._number_cut()
            if cut:
                pieces.append(cut)
                self.goes_on = True
        if pieces:
            self._first = False
        return pieces

    def _early_cut(self) -> str | None:
        for cut in _EARLY_CUT.finditer(self._buffer):
            head = self._buffer[:cut.start() + 1].strip()
            if cut.group() in "，、":  # text without spaces: counted in characters
                long_enough = len(head) >= 3 * self.first_min_words
            else:  # "You:" or "Acme agent:" at the start is a speaker label (the reply guard strips it), not a clause
                least = _LABEL_MAX_WORDS + 1 if head.endswith((":", ";")) else 1
                long_enough = len(head.split()) >= max(self.first_min_words, least)
            if long_enough:
                self._buffer = self._buffer[cut.end():]
                return head
        return None

    def _number_cut(self) -> str | None:
        for cut in _NUMBER_CUT.finditer(self._buffer):
            head = self._buffer[:cut.start()].strip()
            if ":" in head:
                return None  # "You: Your order 1234": a speaker label the reply guard reads with what follows
            if len(head.split()) >= max(self.first_min_words, _NUMBER_CUT_MIN_WORDS):
                self._buffer = self._buffer[cut.end():]
                return head
        return None

    def flush(self) -> str | None:
        self.goes_on = False
        rest, self._buffer = self._buffer.strip(), ""
        return rest or None
