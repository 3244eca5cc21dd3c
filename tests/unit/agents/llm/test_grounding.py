"""An answer after a look-up says what the look-up found, or a sentence made from the result is said instead."""

import json

from agents.providers.llm.base import Message, TextDelta, ToolCallRequest, ToolSpec
from agents.providers.llm.grounding import (GroundedAnswer, fact_sentence, found_nothing, leading_fact,
                                            local_fact_sentence, local_facts, looked_up_answer)

RESULT = json.dumps({"found": True, "order_id": "6112", "status": "out for delivery", "carrier": "UPS",
                     "expected_delivery": "today", "items": ["sleeping bag"]})
ARGS = {"order_id": "6112"}


def _run(*pieces: str) -> tuple[str, bool]:
    answer = GroundedAnswer(leading_fact(RESULT, ARGS), fact_sentence(RESULT, ARGS))
    out = [d for p in pieces for d in answer.feed(TextDelta(p))] + answer.finish()
    return "".join(d.text for d in out), answer.replaced


def test_the_leading_fact_and_the_plain_sentence():
    assert leading_fact(RESULT, ARGS) == "out for delivery"
    assert fact_sentence(RESULT, ARGS) == ("For 6112, the status is out for delivery, the carrier is UPS, "
                                           "the expected delivery is today, the items are sleeping bag.")
    missing = json.dumps({"found": False, "order_id": "4444", "message": "No order 4444 was found."})
    assert leading_fact(missing, {"order_id": "4444"}) is None
    assert fact_sentence(missing, {"order_id": "4444"}) == "No order 4444 was found."


def test_an_answer_that_says_it_streams_on():
    text, replaced = _run("Your order is out ", "for delivery with UPS. ", "It arrives today.")
    assert text == "Your order is out for delivery with UPS. It arrives today." and not replaced


def test_an_answer_that_does_not_is_replaced_by_the_facts():
    text, replaced = _run("Thanks for calling Acme, ", "how can I help? ", "Order 6112 is out for delivery.")
    assert replaced and text.startswith("For 6112, the status is out for delivery")
    assert _run("Sure")[1]  # an answer that ends without a full stop is judged at its end


def _run_in(language: str, *pieces: str) -> tuple[str, bool]:
    answer = GroundedAnswer(local_facts(RESULT, ARGS), local_fact_sentence(RESULT, ARGS, language), language)
    out = [d for p in pieces for d in answer.feed(TextDelta(p))] + answer.finish()
    return "".join(d.text for d in out), answer.replaced


def test_in_another_language_a_translated_answer_stands():
    text, replaced = _run_in("de", "Ihre Bestellung 6112 ", "ist heute in der Zustellung mit UPS.")
    assert not replaced and text.startswith("Ihre Bestellung 6112")


def test_in_another_language_an_english_or_empty_answer_is_replaced_in_its_words():
    assert local_fact_sentence(RESULT, ARGS, "es") == ("Sobre 6112: status: out for delivery, carrier: UPS, "
                                                        "expected delivery: today, items: sleeping bag.")
    text, replaced = _run_in("es", "Your order 6112 is out for delivery with UPS. ")
    assert replaced and text.startswith("Sobre 6112: status: out for delivery")
    text, replaced = _run_in("de", "Danke für Ihren Anruf bei Acme, wie kann ich Ihnen helfen? ")
    assert replaced and text.startswith("Zu 6112:")
    assert local_fact_sentence(RESULT, ARGS, "ja") == ""  # no template: the model's words stand


def test_a_look_up_that_found_nothing_must_be_said_to_have_found_nothing():
    missing = json.dumps({"found": False, "order_id": "8080", "message": "No order 8080 was found."})
    assert found_nothing(missing) and not found_nothing(RESULT)
    for said in ("I couldn't find an order with that number.", "Sorry, order 8080 doesn't exist.",
                 "There is no order 8080 in our system."):
        answer = GroundedAnswer((), fact_sentence(missing, {"order_id": "8080"}), nothing_found=True)
        assert "".join(d.text for d in answer.feed(TextDelta(said + " ")) + answer.finish()) == said + " "
    answer = GroundedAnswer((), fact_sentence(missing, {"order_id": "8080"}), nothing_found=True)
    out = answer.feed(TextDelta("I found the order 8080, but it's still not here. ")) + answer.finish()
    assert answer.replaced and "".join(d.text for d in out) == "No order 8080 was found."


LOOKUP = ToolSpec("lookup_order", "Look up an order by its number.", {
    "type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]})
BOOK = ToolSpec("book_table", "Book a table.", {
    "type": "object", "properties": {"guests": {"type": "integer"}, "time": {"type": "string"}},
    "required": ["guests", "time"]})


def _after(result: dict, *calls: ToolCallRequest) -> list[Message]:
    calls = calls or (ToolCallRequest("call_1", "lookup_order", ARGS),)
    return [Message("system", "You are Acme's phone agent."), Message("user", "Where is order 6112?"),
            Message("assistant", "Let me look that up.", tool_calls=calls),
            Message("tool", json.dumps(result), tool_call_id=calls[-1].call_id, name=calls[-1].name)]


def test_a_look_up_by_number_is_answered_from_its_result_without_the_model():
    assert looked_up_answer(_after(json.loads(RESULT)), [LOOKUP]) == (
        "I looked up 6112 and found: the status is out for delivery, the carrier is UPS, "
        "the expected delivery is today, the items are sleeping bag.")
    missing = {"found": False, "order_id": "4444", "message": "No order 4444 was found."}
    assert looked_up_answer(_after(missing), [LOOKUP]) == "No order 4444 was found."


def test_anything_else_is_left_to_the_model():
    assert looked_up_answer(_after({"error": "the order service timed out"}), [LOOKUP]) is None
    two = (ToolCallRequest("call_1", "lookup_order", {"order_id": "1111"}),
           ToolCallRequest("call_2", "lookup_order", {"order_id": "2222"}))
    assert looked_up_answer(_after({"status": "shipped"}, *two), [LOOKUP]) is None  # their results together
    booked = ToolCallRequest("call_1", "book_table", {"guests": 4, "time": "18:00"})
    assert looked_up_answer(_after({"confirmed": True, "table": "12"}, booked), [BOOK]) is None
    assert looked_up_answer(_after(json.loads(RESULT))[:2], [LOOKUP]) is None  # no result: no look-up answer
