"""Phoneme durations mapped onto the words of the text a voice spoke."""

from agents.providers.tts.alignment import align_words, count_spoken_words, shifted, spoken_word_spans
from agents.providers.tts.base import SpokenWord

RATE = 1000  # one sample a millisecond, to read the spans at a glance

# "^" BOS, words split by " ", punctuation and the pause it makes belong to no word, "$" EOS
PHONEMES = [("^", 20), ("h", 30), ("ɛ", 40), ("l", 30), ("oʊ", 50), (",", 100), (" ", 20),
            ("w", 40), ("ɜː", 60), ("l", 30), ("d", 40), (".", 80), ("$", 10)]


def test_spoken_words_run_between_breaks_and_punctuation():
    assert spoken_word_spans(PHONEMES, RATE) == [(20, 170), (290, 460)]
    assert spoken_word_spans(PHONEMES, RATE, offset_ms=1000) == [(1020, 1170), (1290, 1460)]
    assert count_spoken_words([p for p, _ in PHONEMES]) == 2


def test_text_words_take_as_many_spoken_words_as_they_make_alone():
    spans = [(0, 100), (120, 300), (320, 400), (420, 600), (620, 700), (720, 900)]
    alone = {"Order": 1, "1234": 4, "shipped.": 1}  # "one thousand two hundred thirty four"
    words = align_words("Order 1234 shipped.", spans, alone.__getitem__)
    assert words == (SpokenWord("Order", 0, 100), SpokenWord("1234", 120, 700), SpokenWord("shipped.", 720, 900))


def test_counts_that_do_not_add_up_share_the_spoken_words_out_evenly():
    spans = [(0, 100), (100, 200), (200, 300), (300, 400)]
    words = align_words("a b", spans, lambda word: 1)  # espeak said four words in context, two alone
    assert words == (SpokenWord("a", 0, 200), SpokenWord("b", 200, 400))


def test_a_silent_word_is_heard_with_the_one_before_it():
    words = align_words("cards — even", [(0, 100), (150, 300)], {"cards": 1, "—": 0, "even": 1}.__getitem__)
    assert words == (SpokenWord("cards", 0, 100), SpokenWord("—", 100, 100), SpokenWord("even", 150, 300))


def test_nothing_to_align_is_none_and_trimmed_silence_moves_words_earlier():
    assert align_words("", [(0, 1)], lambda w: 1) is None and align_words("a", [], lambda w: 1) is None
    assert shifted((SpokenWord("a", 30, 90),), -40) == (SpokenWord("a", 0, 50),)
