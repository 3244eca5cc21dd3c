"""split_text: sentences first, long sentences at their clauses, never a piece that would sound chopped."""

from agents.providers.tts.sentences import CLAUSE_SPLIT_CHARS, MAX_PIECE_CHARS, MIN_PIECE_CHARS, split_text


def test_blank_text_has_no_pieces():
    assert split_text("") == []
    assert split_text("  \n\t ") == []


def test_sentences_split_at_their_ends():
    assert split_text("Your order 1234 has shipped. It arrives Tuesday! Anything else?") == [
        "Your order 1234 has shipped.",
        "It arrives Tuesday!",
        "Anything else?",
    ]


def test_a_single_sentence_without_a_full_stop_is_one_piece():
    assert split_text("  hello there ") == ["hello there"]


def test_abbreviations_initials_decimals_and_lower_case_continuations_do_not_end_a_sentence():
    assert split_text("Dr. Smith paid $3.50 at 5 p.m. today. J. R. Bob agreed.") == [
        "Dr. Smith paid $3.50 at 5 p.m. today.",
        "J. R. Bob agreed.",
    ]


def test_quotes_after_the_full_stop_stay_with_the_sentence():
    assert split_text('He said "yes." Then he left.') == ['He said "yes."', "Then he left."]


def test_cjk_full_stops_and_blank_lines_end_sentences():
    assert split_text("你好。你的订单已经发货了。") == ["你好。", "你的订单已经发货了。"]
    assert split_text("First line\n\nSecond line") == ["First line", "Second line"]


def test_a_long_sentence_is_cut_at_clauses_that_are_long_enough():
    sentence = (
        "Well, your order left our warehouse on Monday morning, it is now with the courier, "
        "and it should reach you on Tuesday between nine and noon."
    )
    assert len(sentence) > CLAUSE_SPLIT_CHARS
    pieces = split_text(sentence)
    assert pieces == [
        "Well, your order left our warehouse on Monday morning,",
        "it is now with the courier,",
        "and it should reach you on Tuesday between nine and noon.",
    ]
    assert all(len(p) >= MIN_PIECE_CHARS for p in pieces)


def test_a_short_sentence_keeps_its_commas():
    assert split_text("Yes, of course, gladly.") == ["Yes, of course, gladly."]


def test_numbers_with_thousands_separators_are_not_clauses():
    text = "The total for your three orders comes to 1,234.56 dollars including tax and shipping costs for all items"
    assert split_text(text) == [text]


def test_no_piece_is_longer_than_the_cap_and_nothing_is_lost():
    text = " ".join(["word"] * 200)
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_PIECE_CHARS for p in pieces)
    assert " ".join(pieces) == text


def test_french_spaced_guillemets_spanish_marks_and_cjk_commas():
    assert split_text("Il a dit « Bonjour ! » Puis il est parti. Mme. Dupont arrive.") == [
        "Il a dit « Bonjour ! »", "Puis il est parti.", "Mme. Dupont arrive."]
    assert split_text("¿Qué tal? ¡Muy bien! Sra. García llega.") == ["¿Qué tal?", "¡Muy bien!", "Sra. García llega."]
    assert split_text("「你好。」我想知道。") == ["「你好。」", "我想知道。"]
    long = "您的订单已经发货，预计明天上午到达您的地址，请耐心等待快递员的电话，如有问题请随时联系我们的客服中心，" * 2
    pieces = split_text(long)
    assert len(pieces) > 1 and "".join(pieces) == long.strip()
