"""The words-based judgements: end of turn and backchannels."""

import pytest

from agents.turns import Completeness, completeness, is_backchannel


@pytest.mark.parametrize("text", ["", "Mm-hmm.", "yeah", "Okay, okay.", "Uh-huh", "Thank you.", "right, sure",
                                  "I see.", "Mm-mm.", "M-M-M-M-", "Mmmmm", "Emm...", "And...", "Um"])
def test_backchannels_and_noise_are_not_interruptions(text):
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["Stop.", "No, wait.", "Actually I meant order 5678", "Can you repeat that?",
                                  "yeah but what about my refund", "Me?", "Menu.", "And the refund?"])
def test_words_with_content_are_interruptions(text):
    assert not is_backchannel(text)


@pytest.mark.parametrize("text", ["him", "And then, then...", "Uh-oh.", "M.A.M.", "G-G-G", "Yay!", "Yap.", "in"])
def test_what_whisper_writes_for_a_hum_or_a_mumbled_yeah_is_not_an_interruption(text):
    # Heard by tiny.en over the phone for "Hmm.", "Mm-hmm.", "Uh-huh.", "Mhm.", "Got it.", "Yeah.", "Yep.", "Mm."
    # in tests/perf/backchannel_bench.py's tuning voices.
    assert is_backchannel(text)


@pytest.mark.parametrize("text", ["Then what?", "in the game", "No-no.", "Him? No.", "A B C D"])
def test_those_words_with_more_said_still_interrupt(text):
    assert not is_backchannel(text)


def test_backchannels_in_other_languages():
    assert is_backchannel("Ja, genau.", "de") and is_backchannel("D'accord.", "fr") and is_backchannel("Vale.", "es")
    assert not is_backchannel("Nein, das stimmt nicht.", "de")


@pytest.mark.parametrize("text, expected", [
    ("What is the status of my order?", Completeness.COMPLETE),
    ("I'd like to cancel my subscription.", Completeness.COMPLETE),
    ("My order number is 4", Completeness.INCOMPLETE),
    ("My order number is four, five.", Completeness.INCOMPLETE),
    ("It's 4 5 6.", Completeness.INCOMPLETE),
    ("I want to ask about my order and", Completeness.INCOMPLETE),
    ("Um, so I was wondering, um", Completeness.INCOMPLETE),
    ("Where is order 1234?", Completeness.COMPLETE),
    ("The order number is 1, 2, 3, 4.", Completeness.NEUTRAL),
    ("The order number is 1234.", Completeness.NEUTRAL),
    ("The order number is 1, 2, 3.", Completeness.INCOMPLETE),
    ("My phone number is 555 123", Completeness.INCOMPLETE),
    ("It is one two three four five.", Completeness.NEUTRAL),
    ("hello there", Completeness.NEUTRAL),
])
def test_completeness(text, expected):
    assert completeness(text) is expected
