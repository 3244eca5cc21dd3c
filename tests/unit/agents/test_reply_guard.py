"""The reply guard alone: what a caller must never hear (prompt echoes, tool talk, transcript labels, garbage)
and ordinary replies, persona facts included, that must pass. Bad examples are from real calls."""

import pytest

from agents.providers.llm.base import Message, ToolSpec
from agents.reply import PROVIDER_NOTES, RETRY_NOTE
from agents.reply_guard import ReplyGuard
from agents.tools.orders import lookup_order
from agents.tools.registry import ToolRegistry

PERSONA = (
    "You are Sam, the phone assistant of Acme Outfitters, a shop for outdoor gear. You help callers with "
    "their orders: look an order up by its order number and tell the caller its status, carrier and expected "
    "delivery. The shop is open Monday to Saturday, 9 am to 6 pm, and returns are free within 30 days. "
    "If the caller wants to talk to a person, transfer the call to +15550100. When the caller is done, say "
    "goodbye and end the call. Keep every answer to one or two short sentences."
)
CALLER = "Hi, can you check my order 1234 please? My email is john at example dot com."


def specs() -> list[ToolSpec]:
    registry = ToolRegistry({"lookup_order": lookup_order})
    described = [registry.describe(name) for name in ("lookup_order", "transfer_call", "end_call")]
    return [ToolSpec(d["name"], d["description"], d["parameters"]) for d in described]


@pytest.fixture(scope="module")
def guard() -> ReplyGuard:
    messages = [Message("system", PERSONA), Message("user", "And orders five six seven eight and 9999?"),
                Message("user", CALLER)]
    return ReplyGuard.for_messages(messages, specs(), PERSONA, (*PROVIDER_NOTES, RETRY_NOTE))


GOOD = [
    "Order 1234 has shipped with UPS and should arrive on Friday.",
    "We're open Monday to Saturday from 9 am to 6 pm.",
    "Could you tell me your order number?",
    "Sure, let me transfer you to a person now.",
    # the persona's facts, even word for word, are what the agent is there to say
    "The shop is open Monday to Saturday, 9 am to 6 pm, and returns are free within 30 days.",
    "Returns are free within 30 days.",
    "I'm Sam, the phone assistant of Acme Outfitters.",
    "This is Sam from Acme Outfitters, a shop for outdoor gear.",
    "If you want to talk to a person, I can transfer the call.",
    # a paraphrase of what a tool does is not an echo of its description
    "I can look up an order by its number.",
    "I can look an order up by its order number and tell you its status.",
    "Your order 5678 was delivered by FedEx on Monday.",
    "Sorry, I couldn't find order 9999.",
    "Is there anything else I can help you with?",
    "Hello! How can I help you today?",
    "Thank you for calling, goodbye!",
    "Our multi-tool is on sale.",
    "The iPhone case is back in stock.",
    "The user manual is in the box.",
    "We get lots of callers asking about returns.",
    "You're welcome!",
    "You are welcome to call back anytime.",
    "You can return items free of charge within 30 days.",
    "Sure thing.",
    "1234.",
    "Ihre Bestellung 1234 wurde mit UPS verschickt.",
    "Pardon, pouvez-vous répéter ?",
    "Your email is john at example dot com.",  # a read-back of what the caller said
    "Order 1234?",
]

BAD = [
    # the engine's own rules and notes
    ("You are on a phone call.", "echo"),
    ("You are on a phone call. When the caller has given the details a tool needs, call the tool with them.",
     "tool_talk"),
    ("If a detail is missing, ask the caller for it.", "instructions"),
    ("Now tell the caller the result in plain words, in one or two short sentences.", "instructions"),
    ('The call so far ("You" is you):', "echo"),
    ("Answer the caller directly, in one or two plain sentences.", "instructions"),
    # a tool's description and its parameter's, as said on a real call
    ("You are looking up an order by its ID and returning its status, carrier, and expected delivery.", "echo"),
    ("Look up an order by its ID and return its status, carrier and expected delivery.", "echo"),
    ("The order number, digits only, and an E.164 phone number or a sip URI.", "echo"),
    ("Transfer the caller to a person or another line.", "instructions"),
    # the persona's instructions, in their own voice
    ("You are Sam, the phone assistant of Acme Outfitters, a shop for outdoor gear.", "instructions"),
    ("You are Sam, the phone assistant of Acme Outfitters.", "instructions"),
    ("Keep every answer to one or two short sentences.", "instructions"),
    ("If the caller wants to talk to a person, transfer the call to +15550100.", "instructions"),
    # tool talk
    ("You can call the lookup_order function with the order ID.", "tool_talk"),
    ("I will call the lookup tool now.", "tool_talk"),
    ("Let me use the transfer_call tool.", "tool_talk"),
    ("I need the parameters order ID.", "tool_talk"),
    ("Please provide the arguments.", "tool_talk"),
    ("Here is the JSON for your order.", "tool_talk"),
    ('{"name": "lookup_order", "arguments": {"order_id": "1234"}}', "tool_talk"),
    ('You called lookup_order({"order_id": "1234"}) and got: {"status": "shipped"}', "tool_talk"),
    ("lookupOrder 1234", "tool_talk"),
    # the transcript format: the model writing the caller's part
    ("Caller: What about order 5678?", "transcript"),
    ("User: hello", "transcript"),
    # nothing speakable
    ("{}", "unspeakable"),
    ("```", "unspeakable"),
    ("...", "unspeakable"),
    ("?!", "unspeakable"),
    ("You:", "unspeakable"),
    ("  ", "unspeakable"),
]


@pytest.mark.parametrize("sentence", GOOD)
def test_ordinary_replies_pass_unchanged(guard, sentence):
    verdict = guard.check(sentence)
    assert verdict.ok and verdict.text == sentence and verdict.reason is None


@pytest.mark.parametrize(("sentence", "reason"), BAD)
def test_what_a_caller_must_not_hear_is_refused(guard, sentence, reason):
    verdict = guard.check(sentence)
    assert not verdict.ok and verdict.reason == reason and verdict.text == ""


@pytest.mark.parametrize(("sentence", "spoken"), [
    ("You: Your order 1234 has shipped.", "Your order 1234 has shipped."),
    ("You: Type the order number.", "Type the order number."),
    ("Assistant: Sure, one moment.", "Sure, one moment."),
    ("**Agent:** Hello there!", "Hello there!"),
    ("You: You: Goodbye!", "Goodbye!"),
])
def test_the_agents_own_transcript_label_is_stripped(guard, sentence, spoken):
    verdict = guard.check(sentence)
    assert verdict.ok and verdict.text == spoken


def test_the_guard_judges_against_what_the_model_was_shown():
    """Without the persona's instruction in the prompt, saying it is no echo; a session tool's name always is."""
    other = "You are a concise phone support agent for Acme."
    guard = ReplyGuard.for_messages([Message("system", other)], [ToolSpec("check-stock", "Stock levels", {})], other)
    assert guard.check("Keep every answer to one or two short sentences.").ok
    assert guard.check("You are a concise phone support agent for Acme.").reason == "instructions"
    assert guard.check("I'm a phone support agent for Acme.").ok
    assert guard.check("Let me run check-stock for you.").reason == "tool_talk"


def test_system_text_besides_the_persona_is_engine_text():
    """The language line History.messages appends to the persona, for instance, is never sayable."""
    persona = "You are Sam from Acme. We deliver everywhere in Europe."
    note = "The caller speaks German. Always reply in German (de), even though these instructions are in English."
    guard = ReplyGuard.for_messages([Message("system", f"{persona}\n\n{note}")], [], persona)
    assert guard.check("Always reply in German, even though these instructions are in English.").reason == "echo"
    assert guard.check("We deliver everywhere in Europe.").ok


def test_an_empty_guard_still_refuses_garbage_and_tool_talk():
    guard = ReplyGuard()
    assert guard.check("Hello!").ok
    assert guard.check("{}").reason == "unspeakable"
    assert guard.check("Call the end_call function.").reason == "tool_talk"


def test_a_number_nothing_in_the_call_holds_is_invented_in_a_sentence_about_what_the_tools_look_up():
    caller = Message("user", "Where is my order twelve thirty-four?")
    guard = ReplyGuard.for_messages([Message("system", PERSONA), caller], specs(), PERSONA,
                                    numbers_about=("order", "orders"))
    assert guard.check("Order 1234 will be delivered on Monday, June 15th, 2023.").reason == "invented"
    assert guard.check("Returns are free within 30 days, and we open at 9 am.").ok  # the persona's numbers
    assert guard.check("Could you tell me order 1,234's number again, in one or two words?").ok
    guard.learn('{"order_id": "1234", "status": "shipped", "expected_delivery": "2026-12-15", "tracking": "1Z 999"}')
    assert guard.check("Order 1234 has shipped and arrives on December 15th, tracking 1Z 999.").ok
    assert guard.check("Your order arrives on the 16th.").reason == "invented"
    assert guard.check("The telephone was patented in 1876.").ok  # not about an order: its own knowledge
    assert ReplyGuard().check("Order 4321 shipped.").ok  # no conversation given: numbers are not checked


def test_the_rest_of_a_sentence_whose_first_clause_went_ahead_is_judged_with_it():
    # The first clause is spoken on its own (agents/sentences.py): "Your order," then the rest of the sentence.
    caller = Message("user", "Where is my order twelve thirty-four?")
    guard = ReplyGuard.for_messages([Message("system", PERSONA), caller], specs(), PERSONA,
                                    numbers_about=("order", "orders"))
    assert guard.check("Your order,").ok
    assert guard.check("number 5678, arrives on Monday.").reason == "invented"  # about the order, after all
    assert guard.check("We opened in 1998.").ok  # a new sentence is judged on its own
    assert guard.check("Sure,").ok and guard.check("it was founded in 1876.").ok
    # cut before a number with no clause mark: the splitter says the sentence goes on
    assert guard.check("Your order will arrive on", goes_on=True).ok
    assert guard.check("5678 Main Street.").reason == "invented"
    assert guard.check("The shop opened in", goes_on=False).ok and guard.check("1998 or so.").ok


def test_what_a_parameter_description_tells_the_model_is_never_said():
    # Heard in `parley bench latency`: the model read lookup_order's "the order number, digits only" aloud.
    guard = ReplyGuard.for_messages([Message("system", PERSONA), Message("user", "Do you ship to Canada?")], specs(),
                                    PERSONA)
    said = guard.check("To ship to Canada, you need to provide the order number, digits only.")
    assert not said.ok and said.reason == "echo"
    assert guard.check("Could you tell me the order number?").ok  # the thing itself may be asked for
    assert guard.check("Just the digits, please.").ok
    assert guard.check("I'll transfer you to +15550100.").ok
