"""The LLM is told to answer in the session's language; English prompts stay as they were."""

from agents.languages import name, reply_instruction
from agents.session import History


def test_a_non_english_session_ends_the_system_prompt_with_the_reply_language():
    messages = History().messages("You are a support agent.", 10, "fr")
    assert messages[0].role == "system"
    assert messages[0].content.startswith("You are a support agent.\n\n")
    assert "Always reply in French (fr)" in messages[0].content


def test_an_english_session_keeps_its_prompt_byte_for_byte():
    assert History().messages("You are a support agent.", 10)[0].content == "You are a support agent."
    assert History().messages("You are a support agent.", 10, "en")[0].content == "You are a support agent."
    assert reply_instruction("en") is None


def test_language_names():
    assert name("de") == "German" and name("pt") == "Portuguese" and name("xx") == "xx"
    assert "Spanish (es)" in reply_instruction("es")
