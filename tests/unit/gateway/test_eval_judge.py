"""The evaluation's judge: each call is judged on the outcome a business cares about, and it can fail."""

from collections import Counter

from gateway.evaluation.cases import CASES, CATEGORIES, Case, Expect, Step, select, split_of
from gateway.evaluation.judge import CallRecord, ToolUse, digits_of, judge, language_of

SHIPPED = {"found": True, "order_id": "1234", "status": "shipped", "carrier": "UPS", "expected_delivery": "Friday"}
ORDER = Case("t-order", "order", (Step(say="Where is order 1234?"),), Expect(lookups=("1234",), facts_of=("1234",)))


def _call(case: Case, *replies: str, tools=(), ended=None) -> CallRecord:
    return CallRecord(case, "typed", replies=list(replies), tools=list(tools), ended=ended)


def test_the_set_is_large_varied_and_keeps_held_out_parts():
    assert len(CASES) >= 60 and len({c.case_id for c in CASES}) == len(CASES)
    assert set(Counter(c.category for c in CASES)) == set(CATEGORIES)
    splits = Counter(split_of(c) for c in CASES)
    assert splits["tuned"] >= 30 and splits["held-out"] >= 20 and splits["blind"] >= 30
    assert all(not c.held_out for c in select(smoke=True)) and len(select(smoke=True)) >= 10


def test_a_right_answer_passes():
    lookup = ToolUse("lookup_order", {"order_id": "one two three four"}, SHIPPED)
    verdict = judge(_call(ORDER, "Let me look that up. Order 1234 has shipped with UPS, arriving Friday.", tools=[lookup]))
    assert verdict.passed, verdict.reasons


def test_no_look_up_or_a_wrong_number_fails():
    assert "no look-up of 1234" in judge(_call(ORDER, "It has shipped with UPS on Friday.")).reasons[0]
    wrong = ToolUse("lookup_order", {"order_id": "1"}, {"found": False})
    assert "(looked up 1)" in judge(_call(ORDER, "Sorry.", tools=[wrong])).reasons[0]


def test_missing_facts_invented_facts_and_engine_text_fail():
    lookup = ToolUse("lookup_order", {"order_id": "1234"}, SHIPPED)
    assert any("lacks the details" in r for r in judge(_call(ORDER, "It has shipped.", tools=[lookup])).reasons)
    invented = judge(_call(ORDER, "It has shipped with FedEx, arriving Friday.", tools=[lookup]))
    assert "invented: FedEx" in invented.reasons
    leaked = judge(_call(ORDER, "You can call the lookup_order function. It shipped with UPS Friday.", tools=[lookup]))
    assert any(r.startswith("engine text") for r in leaked.reasons)
    unlooked = Case("t-none", "no_number", (Step(say="Where is my order?"),), Expect(asks_number=True))
    assert "invented: has shipped" in judge(_call(unlooked, "It has shipped. What is your order number?")).reasons
    assert judge(_call(unlooked, "Could you tell me if it has shipped? What's the order number?")).passed


def test_call_control_is_judged_by_what_the_gateway_did():
    bye = Case("t-bye", "goodbye", (Step(say="Bye!"),), Expect(ends=True))
    assert judge(_call(bye, "Goodbye!", tools=[ToolUse("end_call", {})], ended="hangup")).passed
    assert judge(_call(bye, "Goodbye!")).reasons == ["no end_call"]
    person = Case("t-person", "transfer", (Step(say="A person please"),), Expect(transfer=True))
    assert judge(_call(person, "Transferring you.", tools=[ToolUse("transfer_call", {"target": "+1 555 0100"})])).passed
    other = judge(_call(person, "Okay.", tools=[ToolUse("transfer_call", {"target": "+15559999"})]))
    assert other.reasons[0].startswith("transfer_call to another target")
    assert "ended the call unasked" in judge(_call(ORDER, "Bye.", ended="hangup")).reasons


def test_numbers_and_languages():
    assert digits_of("one two three four") == "1234" == digits_of("12-34")
    assert language_of("Ihre Bestellung ist unterwegs und wird am Freitag geliefert.") == "de"
    assert language_of("Su pedido ha sido enviado y llegará el viernes.") == "es"
    assert language_of("Your order has shipped.") == "en"


def test_an_answer_in_another_language_must_still_give_the_result():
    german = Case("t-de", "language", (Step(say="Wo ist meine Bestellung 1234?"),), Expect(lookups=("1234",)),
                  language="de")
    lookup = ToolUse("lookup_order", {"order_id": "1234"}, SHIPPED)
    assert judge(_call(german, "Ihre Bestellung 1234 ist unterwegs.", tools=[lookup])).passed
    assert judge(_call(german, "Zu 1234: status: shipped, carrier: UPS.", tools=[lookup])).passed
    greeted = judge(_call(german, "Danke für Ihren Anruf bei Acme, wie kann ich Ihnen helfen?", tools=[lookup]))
    assert greeted.reasons == ["reply lacks the facts of 1234 (shipped)"]


def test_the_summary_counts_what_the_reply_guard_caught():
    from gateway.evaluation.run import format_table, summarise

    case = next(c for c in CASES if c.category == "order" and not c.held_out)
    right = _call(case, "Order 1234 has shipped with UPS and arrives Friday.",
                  tools=[ToolUse("lookup_order", {"order_id": "1234"}, {"status": "shipped", "carrier": "UPS"})])
    caught = _call(case, "Order 1234 has shipped with UPS and arrives Friday.",
                   tools=[ToolUse("lookup_order", {"order_id": "1234"}, {"status": "shipped", "carrier": "UPS"})])
    caught.guarded = 2
    summary = summarise([(right, judge(right)), (caught, judge(caught))])
    assert summary["guarded"] == {"tuned/typed": [2, 1, 2]}
    assert "caught by the reply guard (not spoken): tuned/typed 2 sentences in 1 of 2 calls" in format_table(summary)
