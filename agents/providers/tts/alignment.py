"""Which word the voice says when: a synthesiser's phoneme timing mapped onto the words of its text.

Piper (with its model patched in memory for alignments, piper-tts 1.8 + the `onnx` package) reports how
many audio samples each phoneme took. Phonemes come in words separated by " "; the text's words do not
map one to one ("1234" is four spoken words, "UPS" one), so each text word is phonemized alone to learn
how many spoken words it makes. When those counts do not add up (espeak joined or split words in
context), text words are spread evenly over the spoken ones. Punctuation and the pauses it makes belong
to no word. The engine uses the result to tell which words a caller heard before talking over a reply
(agents/timeline.py SpokenTimeline).
"""

from collections.abc import Callable, Sequence

from agents.providers.tts.base import SpokenWord

BREAK = " "
SILENT = frozenset(",.;:!?¡¿—–…\"'«»“”()[]^$_")  # punctuation, and Piper's BOS "^" / EOS "$" / PAD "_"


def _sounding(phoneme: str) -> bool:
    """Part of a spoken word: not the break between words, not punctuation or a marker."""
    return phoneme != BREAK and not all(ch in SILENT for ch in phoneme)


def spoken_word_spans(phonemes: Sequence[tuple[str, int]], sample_rate: int,
                      offset_ms: float = 0.0) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of each spoken word from (phoneme, samples) pairs, in order; `offset_ms` is
    where this stretch of audio starts (Piper aligns each espeak sentence on its own)."""
    spans: list[tuple[int, int]] = []
    at_ms, start = offset_ms, None
    for phoneme, samples in phonemes:
        duration_ms = samples * 1000 / sample_rate
        if not _sounding(phoneme):
            if start is not None:
                spans.append((round(start), round(at_ms)))
                start = None
        elif start is None:
            start = at_ms
        at_ms += duration_ms
    if start is not None:
        spans.append((round(start), round(at_ms)))
    return spans


def count_spoken_words(phonemes: Sequence[str]) -> int:
    """How many spoken words a phoneme sequence holds (runs of sounding phonemes between breaks)."""
    count, inside = 0, False
    for phoneme in phonemes:
        sounding = _sounding(phoneme)
        if sounding and not inside:
            count += 1
        inside = sounding
    return count


def align_words(text: str, spans: Sequence[tuple[int, int]],
                spoken_count: Callable[[str], int]) -> tuple[SpokenWord, ...] | None:
    """`text`'s words with the times of the spoken words they make; None when there is nothing to align.

    `spoken_count(word)` says how many spoken words one text word makes alone (0 for a dash)."""
    words = text.split()
    if not words or not spans:
        return None
    counts = [spoken_count(word) for word in words]
    if sum(counts) != len(spans):  # espeak read them differently in context: share the spans out evenly
        total = len(spans)
        bounds = [round(i * total / len(words)) for i in range(len(words) + 1)]
        counts = [bounds[i + 1] - bounds[i] for i in range(len(words))]
    aligned: list[SpokenWord] = []
    index, last_end = 0, spans[0][0]
    for word, count in zip(words, counts):
        if count == 0:  # said with the word before it (or not at all): heard when that one was
            aligned.append(SpokenWord(word, last_end, last_end))
            continue
        start, end = spans[index][0], spans[index + count - 1][1]
        aligned.append(SpokenWord(word, start, end))
        index, last_end = index + count, end
    return tuple(aligned)


def shifted(words: tuple[SpokenWord, ...] | None, by_ms: int) -> tuple[SpokenWord, ...] | None:
    """The same words `by_ms` later (earlier if negative; never before 0): leading silence trimmed off."""
    if words is None or by_ms == 0:
        return words
    return tuple(SpokenWord(w.text, max(0, w.start_ms + by_ms), max(0, w.end_ms + by_ms)) for w in words)
