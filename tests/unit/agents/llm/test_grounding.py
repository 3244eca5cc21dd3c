"""An answer after a look-up says what the look-up found, or a sentence made from the result is said instead."""

import json

from agents.providers.llm.base import TextDelta
from agents.providers.llm.grounding import GroundedAnswer, fact_sentence, leading_fact

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
