"""The phone-ASR benchmark's WER normaliser: the same words said or written differently compare equal."""

import pytest

from tests.perf.asr_phone_bench import OPTIONS, SENTENCES, normalise, word_errors


@pytest.mark.parametrize("said, written", [
    ("one two three four", "1234"),
    ("one two three four", "1, 2, 3, 4."),
    ("twelve thirty-four", "12:34"),
    ("twelve thirty four", "1234"),
    ("It's order 5678.", "it is order five thousand six hundred and seventy-eight"),
    ("nine oh two one oh", "90210"),
    ("My last name is Smith, S M I T H.", "my last name is smith S-M-I-T-H"),
    ("221 Baker Street", "two hundred and twenty-one Baker St."),
    ("forty-two Elm Avenue, apartment three B", "42 Elm Ave, Apt 3B"),
    ("john dot smith at gmail dot com", "john.smith@gmail.com"),
    ("forty-nine ninety-nine", "$49.99"),
    ("1600 Pennsylvania Avenue", "sixteen hundred Pennsylvania Avenue"),
    ("five five five, one two three, four five six seven", "555-123-4567"),
    ("I'd like to speak to a person.", "I would like to speak to a person"),
    ("My account ID is A B seven seven three.", "my account id is AB773"),
    ("Yes, please.", "yes please"),
])
def test_equivalent_forms_have_no_word_errors(said, written):
    assert normalise(said) == normalise(written)
    assert word_errors(said, written)[0] == 0


def test_word_errors_count_substitutions_deletions_and_insertions():
    assert word_errors("cancel it", "can't delete") == (2, 2)
    assert word_errors("no thanks", "no") == (1, 2)
    assert word_errors("goodbye", "goodbye goodbye") == (1, 1)
    assert word_errors("order 1234", "order 1243") == (1, 2)  # a wrong digit fails the whole number


def test_words_that_only_sound_like_numbers_stay_words():
    assert normalise("I want to go for it") == ["i", "want", "to", "go", "for", "it"]
    assert normalise("oh no") == ["oh", "no"]


def test_the_benchmark_has_enough_sentences_and_a_baseline():
    assert len(SENTENCES) >= 30
    assert OPTIONS[0].model == "tiny.en" and OPTIONS[0].beam_size == 1
