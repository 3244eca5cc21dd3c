"""Cut a streaming LLM reply into speakable pieces, so TTS can start on the first one."""

import re

# A sentence ends at . ! ? (or a newline) followed by whitespace; not after a lone capital
# ("J. Smith"), a common abbreviation, or inside a number ("3.5").
_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")
_ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "st.", "e.g.", "i.e.", "etc.", "vs.", "no.", "approx."}


class SentenceSplitter:
    """Feed text deltas; get complete sentences as soon as they end.

    The first piece of a reply may be cut early at a comma once it is
    `first_min_words` long, because time to first audio matters more there
    than prosody.
    """

    def __init__(self, first_min_words: int = 6) -> None:
        self._buffer = ""
        self._first = True
        self.first_min_words = first_min_words

    def push(self, delta: str) -> list[str]:
        self._buffer += delta
        pieces: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            candidate = self._buffer[start:match.start()].strip()
            last_word = candidate.rsplit(None, 1)[-1].lower() if candidate else ""
            if last_word in _ABBREVIATIONS or re.fullmatch(r"[A-Z]\.", last_word.upper()) and len(last_word) == 2:
                continue
            if candidate:
                pieces.append(candidate)
            start = match.end()
        self._buffer = self._buffer[start:]
        if self._first and not pieces:
            cut = self._early_cut()
            if cut:
                pieces.append(cut)
        if pieces:
            self._first = False
        return pieces

    def _early_cut(self) -> str | None:
        comma = self._buffer.rfind(", ")
        if comma < 0:
            return None
        head = self._buffer[:comma + 1].strip()
        if len(head.split()) < self.first_min_words:
            return None
        self._buffer = self._buffer[comma + 2:]
        return head

    def flush(self) -> str | None:
        rest, self._buffer = self._buffer.strip(), ""
        return rest or None


class SpokenTimeline:
    """Which text was spoken when, within one reply, to tell what the listener heard after `played_ms`."""

    def __init__(self) -> None:
        self._pieces: list[tuple[int, int, str]] = []  # (start_ms, end_ms, text)
        self.total_ms = 0

    def add(self, text: str, duration_ms: int) -> None:
        self._pieces.append((self.total_ms, self.total_ms + duration_ms, text))
        self.total_ms += duration_ms

    def extend_last(self, duration_ms: int) -> None:
        """More audio for the piece added last (TTS may deliver one sentence in several chunks)."""
        if self._pieces:
            start, end, text = self._pieces[-1]
            self._pieces[-1] = (start, end + duration_ms, text)
            self.total_ms += duration_ms

    @property
    def text(self) -> str:
        return " ".join(text for _, _, text in self._pieces)

    def heard(self, played_ms: int) -> str:
        """Whole pieces played, plus the words of the current piece in proportion to its time played."""
        words: list[str] = []
        for start, end, text in self._pieces:
            if played_ms >= end:
                words.extend(text.split())
                continue
            if played_ms > start:
                piece = text.split()
                words.extend(piece[: int(len(piece) * (played_ms - start) / max(end - start, 1))])
            break
        return " ".join(words)
