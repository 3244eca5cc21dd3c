"""What a caller's words plainly ask for, beyond doubt: a person, or the end of the call.

Phone callers ask for a human and say goodbye in a small set of ways in every
language; a small model (Qwen2.5 0.5B) misses most of them (0 of 5 "talk to a
person" phrasings chose the transfer in a constrained decision step, measured
with tests/perf/call_eval, see README). These checks are deliberately narrow:
a sentence that also asks something else is left to the model.
"""

import re

_PERSON = {
    "en": r"\b(real|live|actual) (person|human|agent)\b|\b(talk|speak|speaking|chat)(ing)? (to|with) (a |an |the |some )?"
          r"(person|human|someone|somebody|agent|representative|rep|operator|manager|supervisor|customer service)"
          r"|\b(transfer|connect|put) me (through )?(to|with)\b|\bput me through\b|^\W*(agent|operator|representative)\b"
          r"|\b(an?|the) (human|operator|representative|manager|supervisor)\b.*\b(please|want|need|like)\b"
          r"|\b(want|need|like|get) (an?|the|to) (human|person|operator|agent|representative|manager|supervisor)\b"
          r"|\bagent,? please\b",
    "de": r"\b(mit )?(einem|einer) (menschen|mitarbeiter|mitarbeiterin|person|berater|beraterin)\b"
          r"|\b(verbinden sie mich|durchstellen)\b",
    "es": r"\b(hablar|comunicar(me)?) con (una persona|un humano|un agente|alguien|un operador|el gerente)\b"
          r"|\b(pásame|páseme|comuníqueme) con\b",
    "fr": r"\b(parler|passer) (à|a|avec) (une personne|un humain|un conseiller|quelqu'un|un agent|un opérateur)\b"
          r"|\bpassez-moi\b",
}
_GOODBYE = {
    "en": r"\b(good ?bye|bye(-| )?bye|bye|see you|have a (nice|good|great) (day|one|evening)|take care)\b"
          r"|\bthat'?s (all|everything|it)\b.*\b(thanks?|thank you|needed|for now|bye)\b|\bnothing else\b",
    "de": r"\b(auf wiedersehen|auf wiederhören|tschüss|tschüs|ciao)\b",
    "es": r"\b(adiós|adios|hasta luego|hasta pronto|chao)\b",
    "fr": r"\b(au revoir|bonne journée|à bientôt|salut)\b",
}
_COMPILED = {
    name: {lang: re.compile(pattern, re.IGNORECASE) for lang, pattern in table.items()}
    for name, table in (("person", _PERSON), ("goodbye", _GOODBYE))
}


def _matches(kind: str, text: str) -> bool:
    # Every language's phrases, whatever the session's: "auf Wiedersehen" ends an English call too.
    return any(pattern.search(text) for pattern in _COMPILED[kind].values())


def wants_person(text: str) -> bool:
    """The caller asks to be put through to a human ("Can I talk to a real person?", "Agent, please")."""
    return _matches("person", text)


def says_goodbye(text: str) -> bool:
    """The caller closes the call ("That's all, thanks. Bye!") without asking anything more."""
    if not _matches("goodbye", text):
        return False
    # "Bye the way, where is ...?" or "Before I say bye, can you ...?": a question still wants an answer.
    last = re.split(r"(?<=[.!?])\s+", text.strip())[-1]
    return not last.endswith("?")
