"""Recognition hints: a session's vocabulary and its tools' words become one prompt; the router passes them on."""

from dataclasses import dataclass

from agents.providers.asr.hints import (
    MAX_PROMPT_CHARS,
    session_vocabulary,
    tool_words,
    vocabulary_prompt,
    words_of_name,
)
from agents.providers.asr.router import LanguageRouter


@dataclass
class Tool:
    name: str
    parameters: dict


TOOLS = [
    Tool("check_order_status", {"type": "object", "properties": {"order_number": {"type": "string"}}}),
    Tool("transferCall", {"type": "object", "properties": {
        "department": {"type": "string", "enum": ["billing", "sales", 3]}}}),
]


def test_identifiers_become_words():
    assert words_of_name("check_order_status") == "check order status"
    assert words_of_name("transferCall") == "transfer call"
    assert words_of_name("zip-code") == "zip code"


def test_tool_words_are_names_parameters_and_string_enums():
    assert tool_words(TOOLS) == ["check order status", "order number", "transfer call", "department", "billing",
                                 "sales"]


def test_session_vocabulary_comes_first_and_repeats_go():
    words = session_vocabulary(["Acme", "Order Number", " ", "acme"], TOOLS)
    assert words[:2] == ("Acme", "Order Number")
    assert "order number" not in words and words.count("Acme") == 1
    assert "check order status" in words
    assert session_vocabulary(["Acme"], TOOLS, language="fr") == ("Acme",)  # English tool names stay out


def test_prompt_is_a_comma_list_after_the_base_and_bounded():
    assert vocabulary_prompt([]) is None
    assert vocabulary_prompt([], "Phone call.") == "Phone call."
    assert vocabulary_prompt(["Acme", "refund"]) == "Acme, refund."
    assert vocabulary_prompt(["Acme"], "Phone call.") == "Phone call. Acme."
    long = vocabulary_prompt([f"term number {i}" for i in range(100)])
    assert len(long) <= MAX_PROMPT_CHARS + 1 and long.startswith("term number 0, term number 1,")


class RecordingASR:
    name = "fake"
    languages = frozenset({"en"})

    def __init__(self):
        self.opened = []

    def open(self, language, sample_rate=16000, vocabulary=()):
        self.opened.append((language, sample_rate, tuple(vocabulary)))
        return object()


def test_the_router_passes_the_vocabulary_to_the_recogniser():
    asr = RecordingASR()
    router = LanguageRouter({"en": asr})
    router.open("en", 8000, ("Acme",))
    router.open("en", 8000)
    assert asr.opened == [("en", 8000, ("Acme",)), ("en", 8000, ())]
