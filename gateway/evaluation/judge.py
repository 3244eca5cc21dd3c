"""Judge one evaluated call on its outcome: the right tool with the right arguments, the facts in the reply,
nothing invented, the engine's instructions never spoken, the right call-control action.

Every check is on what the caller heard (the assistant's final transcripts) and on
what the gateway did (tool_call/tool_result events, session_ended). A call passes
when it has no failure; each failure is a short reason that the report counts.
"""

import re
from dataclasses import dataclass, field

from gateway.evaluation.cases import ORDERS, STATUS_WORDS, TRANSFER_TARGET, Case

# Words a caller must never hear: the engine's prompt text, tool plumbing.
LEAK = re.compile(
    r"\b(lookup_order|transfer_call|end_call|send_dtmf|function|json|arguments?|parameters?|tool_call)\b|[{}]"
    r"|you are on a phone call|when the caller has given|never mention tools|the call so far|now tell the caller"
    r"|tell the caller|\bcaller pressed\b|\b(call|use|using) the (\w+ )?tool\b",
    re.IGNORECASE,
)
CARRIERS = ("UPS", "FedEx", "DHL", "USPS")
# Statements of an order's state: said about an order nobody looked up (or another state), they are invented.
_STATE_CLAIMS = {
    "shipped": re.compile(r"\b(has|have|was|is|been|got) (been |already )?(shipped|dispatched|sent out)\b", re.I),
    "delivered": re.compile(r"\b(has|have|was|is|been) (been |already )?delivered\b", re.I),
    "cancelled": re.compile(r"\b(has|have|was|is|been) (been )?cancell?ed\b", re.I),
}
_NOT_FOUND = re.compile(
    r"\b(could ?n[o']t|can ?n[o']t|cannot|unable to|did ?n[o']t|was ?n[o']t able to|not able to) (find|locate|see)"
    r"|\bno (order|record|such order)|\bnot (be )?found|does ?n[o']t (exist|match|seem)|\bnot in our system"
    r"|\bdo ?n[o']t (see|have) (an|any)|\bno information|\binvalid\b|\bnot (a )?valid",
    re.IGNORECASE,
)
_ASKS_NUMBER = re.compile(r"\b(order )?(number|id|#)\b", re.IGNORECASE)
_NUMBER_WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                 "six": "6", "seven": "7", "eight": "8", "nine": "9"}
# Words common in one language and rare in the others: enough to tell the reply's language apart.
# An order's state as a German, Spanish or French answer may put it.
_LOCAL_STATUS = {
    "de": {"shipped": ("versandt", "verschickt", "unterwegs", "versendet"), "delivered": ("zugestellt", "geliefert"),
           "processing": ("bearbeitung", "bearbeitet", "vorbereitet"), "cancelled": ("storniert", "annulliert"),
           "out for delivery": ("zustellung",)},
    "es": {"shipped": ("enviado", "en camino", "despachado"), "delivered": ("entregado",),
           "processing": ("procesando", "en proceso", "preparando", "preparación"), "cancelled": ("cancelado",),
           "out for delivery": ("en reparto",)},
    "fr": {"shipped": ("expédié", "envoyé", "en route", "en chemin"), "delivered": ("livré",),
           "processing": ("en cours de traitement", "en préparation", "traité"), "cancelled": ("annulé",),
           "out for delivery": ("en cours de livraison",)},
}
_LANGUAGE_WORDS = {
    "en": {"the", "your", "is", "you", "and", "order", "we", "are", "it", "to", "of", "has", "will", "can"},
    "de": {"der", "die", "das", "ist", "und", "ihre", "sie", "nicht", "wir", "bestellung", "ich", "haben", "wird",
           "mit", "von", "zu", "ein", "eine", "geöffnet", "uhr"},
    "es": {"el", "la", "su", "es", "y", "pedido", "que", "de", "los", "las", "está", "por", "una", "un", "ha",
           "sido", "abierto", "horario"},
    "fr": {"le", "la", "votre", "est", "et", "commande", "nous", "vous", "de", "les", "des", "une", "un", "sommes",
           "ouvert", "heures", "du"},
}


@dataclass
class ToolUse:
    name: str
    arguments: dict
    result: object = None
    error: str | None = None


@dataclass
class CallRecord:
    """What one evaluated call did, as the client saw it."""

    case: Case
    mode: str  # typed | spoken
    voice: str | None = None
    replies: list[str] = field(default_factory=list)  # the assistant's words after each caller step
    heard: list[str] = field(default_factory=list)  # the gateway's final transcript of each caller turn
    tools: list[ToolUse] = field(default_factory=list)
    ended: str | None = None  # session_ended reason, if the session ended
    failure: str | None = None  # the call could not be run to the end (no reply in time, refused)
    latency_ms: list[int] = field(default_factory=list)  # per assistant turn, the gateway's figure
    guarded: int = 0  # model sentences the reply guard refused before they were spoken (stored turns)


@dataclass
class Verdict:
    passed: bool
    reasons: list[str]


def digits_of(text: str) -> str:
    """The digits someone said: "1234", "one two three four" and "12-34" all give "1234"."""
    words = re.findall(r"[a-z]+|\d", str(text).lower())
    return "".join(_NUMBER_WORDS.get(w, w) for w in words if w.isdigit() or w in _NUMBER_WORDS)


def says_number(text: str, number: str) -> bool:
    compact = re.sub(r"[\s,.\-]", "", text)
    return number in compact or number in digits_of(text)


def language_of(text: str) -> str | None:
    words = re.findall(r"[\wäöüßéèêàçñáíóú]+", text.lower())
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _LANGUAGE_WORDS.items()}
    best = max(scores, key=scores.get)
    return best if scores[best] > 0 else None


def judge(record: CallRecord) -> Verdict:
    case, expect = record.case, record.case.expect
    reasons: list[str] = []
    if record.failure:
        return Verdict(False, [record.failure])
    last = record.replies[-1] if record.replies else ""
    spoken = " ".join(record.replies)
    if not last.strip() and not expect.ends:
        reasons.append("no reply")

    lookups = [t for t in record.tools if t.name == "lookup_order"]
    looked_up = [digits_of(t.arguments.get("order_id", "")) for t in lookups]
    if expect.no_tools and record.tools:
        reasons.append("tool called: " + ", ".join(t.name for t in record.tools))
    missing = [n for n in expect.lookups if n not in looked_up]
    if missing:
        wrong = [n for n in looked_up if n not in expect.lookups]
        reasons.append(f"no look-up of {', '.join(missing)}" + (f" (looked up {', '.join(wrong)})" if wrong else ""))
    elif not expect.lookups and lookups:
        reasons.append(f"looked up {', '.join(looked_up) or 'nothing'} unasked")
    for number in expect.facts_of:
        status, details = ORDERS[number]
        if not any(w in last.lower() for w in STATUS_WORDS[status]):
            reasons.append(f"reply lacks the status of {number} ({status})")
        elif details and not any(d.lower() in last.lower() for d in details):
            reasons.append(f"reply lacks the details of {number} ({', '.join(details)})")
    if expect.not_found and not _NOT_FOUND.search(last):
        reasons.append("reply does not say the order is unknown")
    if expect.asks_number and not (_ASKS_NUMBER.search(last) and "?" in last or "order number" in last.lower()):
        reasons.append("reply does not ask for the order number")

    transfers = [t for t in record.tools if t.name == "transfer_call"]
    if expect.transfer:
        if not transfers:
            reasons.append("no transfer_call")
        elif not any(digits_of(t.arguments.get("target", "")) == digits_of(TRANSFER_TARGET) for t in transfers):
            reasons.append("transfer_call to another target: " + str(transfers[0].arguments))
    elif transfers:
        reasons.append("transfer_call unasked")
    ended = [t for t in record.tools if t.name == "end_call"]
    if expect.ends and not (ended or record.ended == "hangup"):
        reasons.append("no end_call")
    elif not expect.ends and (ended or record.ended == "hangup"):
        reasons.append("ended the call unasked")

    for group in expect.mentions:
        if not any(_mentions(last, word) for word in group):
            reasons.append(f"reply does not mention {' / '.join(group)}")
    if case.language != "en" and not expect.facts_of:
        # An answer in another language must still give the result: its status (as the tool said it, or
        # translated) or a detail, not a greeting or "let me check" alone.
        for number in expect.lookups:
            if number in ORDERS and number in looked_up:
                status, details = ORDERS[number]
                said = (*STATUS_WORDS[status], *_LOCAL_STATUS.get(case.language, {}).get(status, ()), *details)
                if not any(w.lower() in last.lower() for w in said):
                    reasons.append(f"reply lacks the facts of {number} ({status})")
    if case.language != "en" and last.strip() and language_of(last) != case.language:
        reasons.append(f"reply not in {case.language}")

    if LEAK.search(spoken):
        reasons.append("engine text or tool talk spoken: " + LEAK.search(spoken).group(0))
    invented = _invented(spoken, lookups)
    if invented:
        reasons.append("invented: " + invented)
    return Verdict(not reasons, reasons)


def _mentions(text: str, word: str) -> bool:
    if word.isdigit():
        return says_number(text, word)
    return re.search(rf"\b{re.escape(word)}\b", text, re.IGNORECASE) is not None


def _invented(spoken: str, lookups: list[ToolUse]) -> str | None:
    """A carrier or an order state the caller was told that no look-up of this call returned."""
    facts = " ".join(str(t.result) for t in lookups if t.error is None).lower()
    for carrier in CARRIERS:
        if re.search(rf"\b{carrier}\b", spoken, re.IGNORECASE) and carrier.lower() not in facts:
            return carrier
    for state, claim in _STATE_CLAIMS.items():
        match = claim.search(spoken)
        if match and state not in facts and not re.search(r"\b(not|n't|if|whether)\b", _clause(spoken, match)):
            return match.group(0)
    return None


def _clause(text: str, match: re.Match) -> str:
    """The words from the sentence's start to the claim: "if it has shipped" is a question, not a claim."""
    start = max(text.rfind(".", 0, match.start()), text.rfind("?", 0, match.start()), text.rfind("!", 0, match.start()))
    return text[start + 1:match.end()]
