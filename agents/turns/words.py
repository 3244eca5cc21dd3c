"""Words of a transcript as the turn strategies compare them: lower case, no punctuation."""

import re

_WORD = re.compile(r"[\w'-]+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.lower().strip("-'") for w in _WORD.findall(text) if w.strip("-'")]
