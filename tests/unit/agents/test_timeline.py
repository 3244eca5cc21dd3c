"""What the listener heard after `played_ms` of a reply."""

from agents.providers.tts.base import SpokenWord
from agents.timeline import SpokenTimeline


def timeline() -> SpokenTimeline:
    t = SpokenTimeline()
    t.add("Hello there.", 1000)
    t.add("Telephones were first introduced in the nineteenth century.", 4000)
    return t


def test_whole_pieces_and_nothing_before_the_start():
    t = timeline()
    assert t.heard(0) == "" and t.heard(1000) == "Hello there." and t.heard(5000) == t.text


def test_words_by_their_length_and_half_heard_words_count():
    t = timeline()
    # 60 characters in 4 s: "Telephones " (11 chars) takes ~730 ms; half of it is heard at ~370 ms
    assert t.heard(1000 + 300) == "Hello there."
    assert t.heard(1000 + 450) == "Hello there. Telephones"
    # "Telephones were first introduced " is 33 chars, ~2.2 s
    assert t.heard(1000 + 2200).endswith("first introduced")
    assert t.heard(1000 + 3900).endswith("nineteenth century.")


def test_chunks_of_one_piece_extend_it():
    t = SpokenTimeline()
    t.add("One two.", 200)
    t.extend_last(200)
    assert t.total_ms == 400 and t.heard(399) == "One two."


def spoken(*words: tuple[str, int, int]) -> list[SpokenWord]:
    return [SpokenWord(*w) for w in words]


ORDER = spoken(("Your", 19, 124), ("order", 158, 414), ("1234", 472, 2132), ("shipped.", 2167, 2457))


def test_the_voices_own_timing_decides_when_it_has_one():
    t = SpokenTimeline()
    t.add("Your order 1234 shipped.", 2500, ORDER)
    # "1234" is four characters of 24 but 1.7 s of speech: by characters it would be heard from ~1070 ms
    assert t.heard(1100) == "Your order"
    assert t.heard(1302) == "Your order 1234"  # its middle
    assert t.heard(2312) == "Your order 1234 shipped."


def test_timed_chunks_of_one_piece_continue_from_where_the_first_ended():
    t = SpokenTimeline()
    t.add("Your order 1234 shipped. It arrives Friday.", 2500, ORDER)
    t.extend_last(1000, spoken(("It", 10, 100), ("arrives", 120, 500), ("Friday.", 520, 900)))
    assert t.heard(2500 + 310) == "Your order 1234 shipped. It arrives"
    assert t.heard(3209) == "Your order 1234 shipped. It arrives"  # "Friday." is heard at 3210
    assert t.heard(3210) == t.text


def test_a_piece_timed_only_in_part_uses_the_timing_it_has_then_characters():
    t = SpokenTimeline()
    t.add("Your order 1234 shipped. It arrives Friday.", 2500, ORDER)
    t.extend_last(1000)  # a chunk without timing: the piece is estimated by characters again
    assert t.heard(1100) == "Your order 1234"  # the estimate: "1234" counted by its four characters


def test_timing_for_other_words_than_the_text_is_not_used():
    t = SpokenTimeline()
    t.add("Your order 1234 left.", 2500, ORDER)
    assert t.heard(500) == "Your"  # by characters (the voice's timing would have "order" at 286 ms)
