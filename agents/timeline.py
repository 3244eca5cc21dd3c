"""Which text of a reply was spoken when, to tell what the caller heard when they talked over it.

Each piece of the reply is added as its audio is queued, with its words' timing when the synthesiser
reports one (Piper's phoneme alignments, agents/providers/tts/alignment.py). Cut at `played_ms`, the
heard text is every whole piece played, then the words of the current piece that were half heard or
more: by the voice's own timing when the piece has it, else by sharing the piece's time out by
characters (close for words, far off for numbers: "1234" is four characters and 1.7 s of speech).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from agents.providers.tts.base import SpokenWord


@dataclass
class _Piece:
    start_ms: int
    end_ms: int
    text: str
    words: list[SpokenWord] | None  # the voice's timing of text's words, from the piece's start


class SpokenTimeline:
    """Which text was spoken when, within one reply, to tell what the listener heard after `played_ms`."""

    def __init__(self) -> None:
        self._pieces: list[_Piece] = []
        self.total_ms = 0

    def add(self, text: str, duration_ms: int, words: Sequence[SpokenWord] | None = None) -> None:
        self._pieces.append(_Piece(self.total_ms, self.total_ms + duration_ms, text,
                                   list(words) if words is not None else None))
        self.total_ms += duration_ms

    def extend_last(self, duration_ms: int, words: Sequence[SpokenWord] | None = None) -> None:
        """More audio for the piece added last (TTS may deliver one sentence in several chunks), with the
        timing of its words if the synthesiser gave it (for every chunk, or the piece has none)."""
        if not self._pieces:
            return
        piece = self._pieces[-1]
        if piece.words is not None and words is not None:
            so_far = piece.end_ms - piece.start_ms
            piece.words.extend(SpokenWord(w.text, w.start_ms + so_far, w.end_ms + so_far) for w in words)
        else:
            piece.words = None
        piece.end_ms += duration_ms
        self.total_ms += duration_ms

    @property
    def text(self) -> str:
        return " ".join(piece.text for piece in self._pieces)

    def heard(self, played_ms: int) -> str:
        """Whole pieces played, plus the words of the current piece that were half heard or more."""
        words: list[str] = []
        for piece in self._pieces:
            if played_ms >= piece.end_ms:
                words.extend(piece.text.split())
                continue
            if played_ms > piece.start_ms:
                words.extend(_heard_in(piece, played_ms - piece.start_ms))
            break
        return " ".join(words)


def _heard_in(piece: _Piece, played_ms: int) -> list[str]:
    text_words = piece.text.split()
    timed = piece.words
    # The timed words may be the first of the piece only (its later chunks not synthesised yet), and
    # then they cover all of its audio so far.
    if timed and [w.text for w in timed] == text_words[:len(timed)]:
        return [w.text for w in timed if (w.start_ms + w.end_ms) / 2 <= played_ms]
    # No timing from the voice: a long word takes longer to say than a short one.
    total = sum(len(w) + 1 for w in text_words)
    heard_chars = total * played_ms / max(piece.end_ms - piece.start_ms, 1)
    heard, position = [], 0
    for word in text_words:
        if position + (len(word) + 1) / 2 > heard_chars:
            break
        heard.append(word)
        position += len(word) + 1
    return heard
