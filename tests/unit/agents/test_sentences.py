"""SentenceSplitter: a streamed reply cut into sentences in each language, whatever the delta sizes."""

import pytest

from agents.sentences import SentenceSplitter


def split(text: str, step: int) -> list[str]:
    splitter, out = SentenceSplitter(), []
    for i in range(0, len(text), step):
        out += splitter.push(text[i : i + step])
    rest = splitter.flush()
    return out + ([rest] if rest else [])


CASES = {
    "english": ("Hello there. How are you? I am fine.", ["Hello there.", "How are you?", "I am fine."]),
    "abbreviations and initials": ("Dr. Smith and J. Doe came. Bye.", ["Dr. Smith and J. Doe came.", "Bye."]),
    "lower case after a period": ("Come at 5 p.m. tomorrow. Bye.", ["Come at 5 p.m. tomorrow.", "Bye."]),
    "closing quote": ('He said "stop." Then left.', ['He said "stop."', "Then left."]),
    "french guillemets and spaced marks": (
        "Il a dit « Bonjour ! » Puis il est parti. Mme. Dupont arrive.",
        ["Il a dit « Bonjour ! »", "Puis il est parti.", "Mme. Dupont arrive."]),
    "spanish inverted marks": ("¿Qué tal? ¡Muy bien! Sra. García llega.", ["¿Qué tal?", "¡Muy bien!", "Sra. García llega."]),
    "german abbreviations": ("Bitte warten Sie z.B. zehn Minuten. Danke.", ["Bitte warten Sie z.B. zehn Minuten.", "Danke."]),
    "cjk full stops": ("你好。我想知道我的订单在哪里！谢谢", ["你好。", "我想知道我的订单在哪里！", "谢谢"]),
    "cjk closing bracket": ("「你好。」我想知道。", ["「你好。」", "我想知道。"]),
    "newline": ("One.\n\nTwo", ["One.", "Two"]),
}


@pytest.mark.parametrize("step", [1, 3, 1000])
@pytest.mark.parametrize("case", CASES)
def test_sentences_in_many_languages(case, step):
    text, expected = CASES[case]
    assert split(text, step) == expected


def test_a_sentence_end_at_the_end_of_a_delta_waits_for_the_next_one():
    splitter = SentenceSplitter()
    assert splitter.push("Bonjour ! ") == []  # a » may still follow
    assert splitter.push("» Puis") == ["Bonjour ! »"]
    assert splitter.flush() == "Puis"


def test_the_first_piece_is_cut_early_at_its_first_clause_in_spaced_and_unspaced_scripts():
    assert split("Yes, you can pay by card. We take Visa, too.", 3) == ["Yes,", "you can pay by card.", "We take Visa, too."]
    assert split("Votre commande numéro douze, passée lundi dernier, a été expédiée. Merci.", 4)[:2] == \
        ["Votre commande numéro douze,", "passée lundi dernier, a été expédiée."]
    assert split("您的订单已经发货了，预计明天到达，请耐心等待，谢谢您", 2)[0] == "您的订单已经发货了，"
    assert split("Order 1,234 shipped.", 1) == ["Order 1,234 shipped."]  # a thousands comma is no clause
    assert split("I looked up 1234 and found: the status is shipped, the carrier is UPS.", 1000) == [
        "I looked up 1234 and found:", "the status is shipped, the carrier is UPS."]
    assert split("We open at 9:30 tomorrow.", 2) == ["We open at", "9:30 tomorrow."]  # 9:30's colon is no clause
    assert split("You: Your order 1234 has shipped.", 1) == ["You: Your order 1234 has shipped."]  # a label


@pytest.mark.parametrize("step", [1, 4])  # as a model streams it (whole sentences at once are not cut)
def test_with_no_clause_mark_the_first_piece_is_cut_before_a_number_after_three_words(step):
    assert split("My opening hours are 9 AM to 5 PM. Call us then.", step) == [
        "My opening hours are", "9 AM to 5 PM.", "Call us then."]
    assert split("Delivery usually takes 2-3 days.", step) == ["Delivery usually takes", "2-3 days."]
    assert split("Order 1234 has shipped.", step) == ["Order 1234 has shipped."]  # too little to say first
    assert split("It is 5 PM. We open at 9 tomorrow.", step) == ["It is 5 PM.", "We open at 9 tomorrow."]
    # a clause mark, once written, still goes first; the rest is whole sentences, numbers and all
    assert split("Sure, we are open from 9 to 5.", step) == ["Sure,", "we are open from 9 to 5."]


def test_the_splitter_says_when_its_piece_leaves_the_sentence_open():
    splitter = SentenceSplitter()
    assert splitter.push("Your order number is 5") == ["Your order number is"] and splitter.goes_on
    assert splitter.push("678. It ships") == ["5678."] and not splitter.goes_on


def test_a_longer_first_clause_can_be_asked_for():
    splitter = SentenceSplitter(first_min_words=3)
    assert splitter.push("Oui, bien sûr, ") == ["Oui, bien sûr,"]
