"""What the listener heard after `played_ms` of a reply."""

from agents.sentences import SpokenTimeline


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
