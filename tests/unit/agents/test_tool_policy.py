"""The tool policy: numbers said any way, a request for a person and a goodbye call their tools; the rest is the model's."""

import pytest

from agents.intents import says_goodbye, wants_person
from agents.numbers import digits_only, numbers_in
from agents.providers.llm.base import Message, ToolSpec
from agents.tool_policy import decide, model_tools, number_parameter, subject_words, transfer_targets

LOOKUP = ToolSpec("lookup_order", "Look up an order.", {
    "type": "object", "properties": {"order_id": {"type": "string", "description": "the order number, digits only"}},
    "required": ["order_id"]})
TICKET = ToolSpec("get_ticket", "A support ticket.", {
    "type": "object", "properties": {"ticket": {"type": "integer"}}, "required": ["ticket"]})
TRANSFER = ToolSpec("transfer_call", "Transfer the caller.", {
    "type": "object", "properties": {"target": {"type": "string", "description": "an E.164 number; allowed: +15550100"}},
    "required": ["target"]})
END = ToolSpec("end_call", "End the call.", {"type": "object", "properties": {}})
WEATHER = ToolSpec("get_weather", "The weather in a city.", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
TOOLS = [LOOKUP, TRANSFER, END]


@pytest.mark.parametrize("said, number", [
    ("What is the status of order 1234?", "1234"),
    ("It's number one two three four.", "1234"),
    ("order twenty forty-five, where is it", "2045"),
    ("number seven three five zero, and I", "7350"),
    ("order eighty-eight ninety?", "8890"),
    ("twelve thirty-four", "1234"),
    ("thirty-one forty", "3140"),
    ("one zero zero one", "1001"),
    ("double five oh seven", "5507"),
    ("two thousand and forty-five", "2045"),
    ("forty-five hundred", "4500"),
    ("12-34", "1234"),
    ("order 1,234", "1234"),
    ("caller pressed 1234#", "1234"),
])
def test_numbers_as_callers_say_them(said, number):
    assert numbers_in(said)[-1] == number


@pytest.mark.parametrize("said, number", [
    ("Wo ist meine Bestellung sechs eins eins zwei?", "6112"),
    ("Bestellnummer fünf sechs sieben acht, bitte", "5678"),
    ("Mi pedido es el cinco seis siete ocho.", "5678"),
    ("uno cero cero uno", "1001"),
    ("Ma commande, c'est un deux trois quatre.", "1234"),
    ("numéro huit huit neuf zéro", "8890"),
])
def test_digits_said_in_german_spanish_and_french(said, number):
    assert numbers_in(said)[-1] == number


def test_articles_that_are_also_one_are_not_numbers():
    assert numbers_in("J'ai un problème avec un colis.") == []
    assert numbers_in("Tengo un pedido, el número 2045.") == ["2045"]


def test_words_that_are_not_numbers():
    assert numbers_in("Hi, oh I see, no.") == []
    assert numbers_in("I have one question about order 5678") == ["1", "5678"]
    assert digits_only("one two three four") == "1234" and digits_only("a and b") == "a and b"


@pytest.mark.parametrize("said", ["Can I talk to a real person please?", "I'd like to speak to a human.",
                                  "Let me talk to someone from customer service.", "Representative.",
                                  "Transfer me to the billing team", "Ich möchte mit einem Mitarbeiter sprechen"])
def test_asking_for_a_person(said):
    assert wants_person(said)


@pytest.mark.parametrize("said", ["Who am I speaking with?", "Is a person going to deliver it?", "Where is my order?"])
def test_not_asking_for_a_person(said):
    assert not wants_person(said)


def test_goodbye_but_not_a_goodbye_with_a_question():
    assert says_goodbye("Perfect, thanks. Bye!") and says_goodbye("No, nothing else, that's everything.")
    assert says_goodbye("Auf Wiedersehen!")
    assert not says_goodbye("Before I say bye, can you check my order?")
    assert not says_goodbye("Hi there, how are you?")


def test_which_parameters_take_a_number():
    assert number_parameter(LOOKUP) == "order_id" and number_parameter(TICKET) == "ticket"
    assert number_parameter(WEATHER) is None and number_parameter(END) is None
    assert transfer_targets(TRANSFER) == ["+15550100"]


def _after(*said: str) -> list[Message]:
    messages = [Message("system", "Be brief."), Message("assistant", "Hello, how can I help?")]
    for i, text in enumerate(said):
        if i:
            messages.append(Message("assistant", "Sure."))
        messages.append(Message("user", text))
    return messages


def test_a_number_calls_the_number_tool_with_the_callers_digits():
    decision = decide(_after("Hi, how are you?", "Great. Where is order twelve thirty-four?"), TOOLS)
    assert decision.call.name == "lookup_order" and decision.call.arguments == {"order_id": "1234"}
    ticket = decide(_after("Ticket 4821 please"), [TICKET])
    assert ticket.call.arguments == {"ticket": 4821}


def test_no_number_leaves_the_model_without_the_look_up_so_it_asks():
    decision = decide(_after("Where is my order?"), TOOLS)
    assert decision.call is None and decision.tools == []
    assert decide(_after("I have 2 questions"), TOOLS).call is None  # too short for an id


def test_person_and_goodbye_call_control():
    assert decide(_after("Can I speak to a human?"), TOOLS).call.arguments == {"target": "+15550100"}
    assert decide(_after("That's all, thanks. Goodbye!"), TOOLS).call.name == "end_call"
    assert decide(_after("Thanks, one more: order 5678. Bye!"), TOOLS).call.name == "lookup_order"


def test_what_the_policy_does_not_understand_stays_with_the_model():
    decision = decide(_after("What's the weather in Paris?"), [*TOOLS, WEATHER])
    assert decision.call is None and decision.tools == [WEATHER]
    several = decide(_after("Order 1234 or ticket 1234?"), [LOOKUP, TICKET])
    assert several.call is None and set(t.name for t in several.tools) == {"lookup_order", "get_ticket"}
    after_result = [*_after("Order 1234?"), Message("tool", "{}", tool_call_id="c1", name="lookup_order")]
    assert decide(after_result, TOOLS).call is None


@pytest.mark.parametrize("said", ["Where is my order?", "Hi, I want to check the status of my order.",
                                  "I'd like to check an order. I'll type the number."])
def test_asking_about_the_subject_without_a_number_is_asked_for_it(said):
    decision = decide([Message("user", said)], TOOLS)
    assert decision.call is None and decision.ask is LOOKUP and decision.reason == "ask"


def test_no_question_for_a_number_when_the_caller_talks_of_other_things_or_already_got_an_answer():
    assert decide([Message("user", "What are your opening hours?")], TOOLS).ask is None
    assert decide([Message("user", "My package is late.")], TOOLS).ask is None  # the model decides
    looked_up = [Message("user", "Order 1234?"), Message("tool", '{"status": "shipped"}', tool_call_id="c1"),
                 Message("user", "Thanks, and when does my order arrive?")]
    assert decide(looked_up, TOOLS).ask is None  # a follow-up about the order it just found
    assert subject_words(LOOKUP) == {"order", "orders"} and subject_words(TICKET) == {"ticket", "tickets"}


CARD = ToolSpec("freeze_card", "Freeze a card.", {"type": "object", "properties": {
    "last_four": {"type": "string", "pattern": "^[0-9]{4}$"},
    "reason": {"type": "string", "enum": ["lost", "stolen", "suspicious"]}}, "required": ["last_four", "reason"]})
CALLBACK = ToolSpec("schedule_callback", "Call back.", {"type": "object", "properties": {
    "when": {"type": "string", "enum": ["morning", "afternoon", "evening"]},
    "phone": {"type": "string", "pattern": "^[0-9]{10}$"}}, "required": ["when", "phone"]})
OUTAGE = ToolSpec("report_outage", "Log an outage.", {"type": "object", "properties": {
    "service": {"type": "string", "enum": ["internet", "tv", "phone_line"]},
    "postcode": {"type": "string", "pattern": "^[0-9]{5}$"}}, "required": ["service", "postcode"]})
TABLE = ToolSpec("book_table", "Book a table.", {"type": "object", "properties": {
    "party_size": {"type": "integer", "minimum": 1, "maximum": 12},
    "name": {"type": "string"}}, "required": ["party_size", "name"]})
HOURS = ToolSpec("opening_hours", "Hours of a day.", {"type": "object", "properties": {
    "day": {"type": "string", "enum": ["monday", "sunday"]}}, "required": ["day"]})
OWN = [CARD, CALLBACK, OUTAGE, TABLE, HOURS, TRANSFER, END]


@pytest.mark.parametrize("said, name, arguments", [
    ("I lost my card, it ends in 4321.", "freeze_card", {"last_four": "4321", "reason": "lost"}),
    ("Someone stole it... no wait, it was stolen, card ending eight eight one two.", "freeze_card",
     {"last_four": "8812", "reason": "stolen"}),
    ("Please call me back in the afternoon at 555 123 4567.", "schedule_callback",
     {"when": "afternoon", "phone": "5551234567"}),
    ("The phone line is dead here, zip code nine oh two one oh.", "report_outage",
     {"service": "phone_line", "postcode": "90210"}),
])
def test_a_tool_whose_every_value_was_said_is_called_with_the_callers_values(said, name, arguments):
    decision = decide([Message("user", said)], OWN)
    assert decision.call is not None and decision.reason == "values"
    assert (decision.call.name, decision.call.arguments) == (name, arguments)


@pytest.mark.parametrize("said", [
    "My card was stolen.",                              # no number
    "I lost my card or it was stolen, it ends in 4321.",  # two choices named
    "Call me back at 555 123 4567.",                    # when?
    "A table for four, please.",                        # a name is free text: the model's
    "Are you open on Sunday?",                          # no number: the model's
    "My internet is down and the TV too, I'm in 90210.",  # which service?
    "The card ending 43 is lost.",                      # the number does not fit the pattern
    "I lost my card, it ends in 4321, or maybe 1234.",  # which number?
])
def test_values_not_all_there_for_certain_leave_the_tool_to_the_model(said):
    decision = decide([Message("user", said)], OWN)
    assert decision.call is None


def test_two_tools_filled_at_once_are_the_models_choice():
    both = ToolSpec("card_pin_reset", "Reset a PIN.", {"type": "object", "properties": {
        "last_four": {"type": "string", "pattern": "^[0-9]{4}$"},
        "reason": {"type": "string", "enum": ["lost", "forgotten"]}}, "required": ["last_four", "reason"]})
    assert decide([Message("user", "I lost my card, it ends in 4321.")], [CARD, both]).call is None


def test_the_tools_offered_to_the_model_are_the_same_on_every_turn_left_to_it():
    # warm_up reads this shape into the LLM's cache ahead of the caller (agents/providers/llm/llamacpp.py)
    faq = ToolSpec("store_hours", "Opening hours of a store.", {"type": "object", "properties": {"city": {"type": "string"}}})
    tools = [LOOKUP, TRANSFER, END, faq]
    assert model_tools(tools) == [faq]
    for said in ("Can I pay by card?", "Where are you based?", "Hello there"):
        assert decide([Message("user", said)], tools).tools == model_tools(tools)
