"""Split a reply into the pieces a TTS synthesises one at a time, so the first audio comes early.

Time to first audio grows with the length of the first piece (Piper needs
about 0.1 s of CPU per second of speech here), so a reply is cut at sentence
ends, and a long sentence also at its clause marks (, ; :) where the voice
pauses anyway. Each piece is still a whole phrase, so prosody stays natural.
Pieces are stripped; joined with single spaces they give back the text with
its whitespace collapsed.
"""

import re

CLAUSE_SPLIT_CHARS = 80  # sentences longer than this are cut at clause marks too
MIN_PIECE_CHARS = 20  # a clause shorter than this joins its neighbour (no choppy "Well," pieces)
MAX_PIECE_CHARS = 200  # hard cap, cut at a space: bounds one synthesis call, hence cancel latency

# A sentence ends after . ! ? or an ellipsis (plus closing quotes/brackets) and
# whitespace, after CJK full stops with or without whitespace, or at a blank line.
# French sets closing » apart with a space (« Bonjour ! »): it stays with its sentence.
_SENTENCE_END = re.compile(
    r"""(?<=[.!?…])(?P<close>(?:\s*["'”’)\]»」』])*)\s+|(?<=[。！？])(?P<cjk>[」』）]*)\s*|\n\s*\n\s*""")
_CJK_CLAUSE_MARKS = ("，", "、", "；", "：")
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|(?<=[，、；：])\s*|\s+(?=[–—]\s)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st sr jr vs etc eg ie no nr approx dept inc ltd co corp jan feb mar apr jun jul "
    "aug sep sept oct nov dec mon tue wed thu fri sat sun "
    "sra srta dra ud uds pej zb bzw usw ca evtl ggf inkl mme mlle env cf sig dott ecc".split()
)


def split_text(text: str) -> list[str]:
    """The pieces of `text` in order: sentences, long ones cut at clauses; [] for blank text."""
    pieces: list[str] = []
    for sentence in _sentences(text):
        clauses = _clauses(sentence) if len(sentence) > CLAUSE_SPLIT_CHARS else [sentence]
        for clause in clauses:
            pieces.extend(_cap(clause))
    return pieces


def _sentences(text: str) -> list[str]:
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start() + len(match.group("close") or match.group("cjk") or "")]
        if _is_false_end(text[start : match.start()], text[match.end() :]):
            continue
        if head.strip():
            sentences.append(head.strip())
        start = match.end()
    if text[start:].strip():
        sentences.append(text[start:].strip())
    return sentences


def _is_false_end(head: str, tail: str) -> bool:
    """A period that ends an abbreviation or an initial, or one followed by lower case, ends no sentence."""
    if not head.endswith("."):
        return False
    if tail[:1].islower():  # "at 5 p.m. tomorrow", "e.g. this"
        return True
    word = re.split(r"\s", head)[-1].rstrip(".").replace(".", "").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _clauses(sentence: str) -> list[str]:
    parts = [p for p in _CLAUSE_END.split(sentence) if p.strip()]
    merged: list[str] = []
    for part in parts:
        if merged and len(merged[-1]) < MIN_PIECE_CHARS:
            merged[-1] = _join(merged[-1], part)
        else:
            merged.append(part)
    if len(merged) > 1 and len(merged[-1]) < MIN_PIECE_CHARS:  # a short tail joins the clause before it
        tail = merged.pop()
        merged[-1] = _join(merged[-1], tail)
    return merged


def _join(head: str, tail: str) -> str:
    """Two clauses as one piece: CJK text has no space after its comma."""
    return f"{head}{tail}" if head.endswith(_CJK_CLAUSE_MARKS) else f"{head} {tail}"


def _cap(piece: str) -> list[str]:
    out: list[str] = []
    while len(piece) > MAX_PIECE_CHARS:
        cut = piece.rfind(" ", 0, MAX_PIECE_CHARS)
        if cut <= 0:  # one enormous "word": cut anyway
            cut = MAX_PIECE_CHARS
        out.append(piece[:cut].strip())
        piece = piece[cut:].strip()
    if piece:
        out.append(piece)
    return out
