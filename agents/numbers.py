"""Numbers as callers say them, as digit strings: "one two three four", "twelve thirty-four", "12-34" -> "1234".

Callers read order, account and ticket numbers out in pieces (digit by digit,
in pairs, "double five") and ASR writes them as words, digits or a mix. A
number is a run of number words and digit groups with only spaces, hyphens or
commas between them; each piece adds its digits in the order said, so
"twenty forty-five" is 2045 and "eighty-eight ninety" is 8890. "hundred" and
"thousand" count as a speaker means them ("two thousand and forty-five" is
2045, "forty-five hundred" is 4500). German, Spanish and French callers' digits
count too ("sechs eins eins zwei", "cinco seis siete ocho", "un deux trois
quatre"); their words for "one" that are also "a" (un, uno) only next to other
number words.
"""

import re

_UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9}
# Digits in the other languages callers are answered in (agents/languages.py): said one by one is how they
# read out order numbers; the few that are also articles are _ARTICLES.
_UNITS.update({
    "null": 0, "eins": 1, "zwei": 2, "zwo": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8,
    "neun": 9,
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
    "zéro": 0, "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
})
_ARTICLES = {"un", "uno"}  # "un pedido", "un colis": a digit only between other number words
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_REPEAT = {"double": 2, "triple": 3}
_TOKEN = re.compile(r"\d+|[^\W\d_]+|[^\s\w]|\s+")  # letters of any script: "fünf", "zéro"
_JOINERS = {"-", ",", "."}  # between pieces of one number ("12-34", "1,234"); "and" only after hundred/thousand


def numbers_in(text: str) -> list[str]:
    """Every number in `text` as a digit string, in order. "o"/"oh" count only between other number words."""
    numbers: list[str] = []
    pieces: list[str] = []  # digit strings of the number being read
    words = [t for t in _TOKEN.findall(text.lower()) if not t.isspace()]
    i = 0
    while i < len(words):
        word = words[i]
        consumed, digits = _piece(words, i, reading=bool(pieces))
        if consumed:
            pieces.append(digits)
            i += consumed
            continue
        if pieces and word in _JOINERS and i + 1 < len(words) and _piece(words, i + 1, reading=True)[0]:
            i += 1
            continue
        if pieces:
            numbers.append("".join(pieces))
            pieces = []
        i += 1
    if pieces:
        numbers.append("".join(pieces))
    return [n for n in numbers if n]


def _piece(words: list[str], i: int, *, reading: bool) -> tuple[int, str]:
    """(words consumed, digits) of the number piece starting at words[i]; (0, "") if none starts there."""
    word = words[i]
    if word.isdigit():
        return 1, word
    if word in _REPEAT and i + 1 < len(words) and words[i + 1] in _UNITS:
        return 2, str(_UNITS[words[i + 1]]) * _REPEAT[word]
    if word in ("o", "oh") and not reading:
        return 0, ""  # "oh" and "o" alone are words, not zero
    if word in _ARTICLES and not reading and not (i + 1 < len(words) and _piece(words, i + 1, reading=True)[0]):
        return 0, ""
    value, used = _small(words, i)
    if not used:
        return 0, ""
    nxt = words[i + used] if i + used < len(words) else ""
    if nxt in ("hundred", "thousand"):
        scale = 100 if nxt == "hundred" else 1000
        value *= scale
        used += 1
        rest_at = i + used + (1 if i + used < len(words) and words[i + used] == "and" else 0)
        rest, rest_used = _small(words, rest_at) if rest_at < len(words) else (0, 0)
        if rest_used and rest < scale:
            value += rest
            used = rest_at - i + rest_used
        return used, str(value)
    return used, str(value)


def _small(words: list[str], i: int) -> tuple[int, int]:
    """A number below 100 said in words at words[i]: (value, words used)."""
    word = words[i]
    if word in _UNITS:
        return _UNITS[word], 1
    if word in _TEENS:
        return _TEENS[word], 1
    if word in _TENS:
        value = _TENS[word]
        j = i + 1
        if j < len(words) and words[j] == "-":
            j += 1
        if j < len(words) and words[j] in _UNITS and words[j] not in ("o", "oh", "zero", "nought"):
            return value + _UNITS[words[j]], j - i + 1
        return value, 1
    return 0, 0


def digits_only(value: str) -> str:
    """A number argument as a caller meant it: the digits of `value` if it holds exactly one number."""
    found = numbers_in(value)
    return found[0] if len(found) == 1 else value
