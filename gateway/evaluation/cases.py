"""The scripted calls of `parley eval`: what the caller says (or keys in), and the outcome a business wants.

Every call runs against one contact-center agent (AGENT: a persona as an admin
would write it, with the order look-up, a transfer target and end_call), starts
after the greeting has played, and is judged on its outcome (judge.py). Cases
marked `held_out` are never looked at while tuning prompts, decoding or ASR
settings: they are the figure to report. Orders come from the sample tool's
data (agents/tools/data/orders.json).
"""

from dataclasses import dataclass, field
from typing import Literal

TRANSFER_TARGET = "+15550100"
GREETING = "Thanks for calling Acme Outfitters, this is Sam. How can I help you today?"
SYSTEM_PROMPT = (
    "You are Sam, the phone assistant of Acme Outfitters, a shop for outdoor gear. You help callers with "
    "their orders: look an order up by its order number and tell the caller its status, carrier and expected "
    "delivery. The shop is open Monday to Saturday, 9 am to 6 pm, and returns are free within 30 days. "
    "If the caller wants to talk to a person, transfer the call to +15550100. When the caller is done, say "
    "goodbye and end the call. Keep every answer to one or two short sentences."
)
# A caller in another language is greeted in it (the persona an admin sets up for that line).
GREETINGS = {
    "en": GREETING,
    "de": "Danke für Ihren Anruf bei Acme Outfitters, hier ist Sam. Wie kann ich Ihnen helfen?",
    "es": "Gracias por llamar a Acme Outfitters, le atiende Sam. ¿En qué puedo ayudarle?",
    "fr": "Merci d'avoir appelé Acme Outfitters, ici Sam. Comment puis-je vous aider ?",
}
AGENT = {
    "voice_id": "joe",
    "system_prompt": SYSTEM_PROMPT,
    "greeting": GREETING,
    "tools": [{"name": "lookup_order"}, {"name": "transfer_call"}, {"name": "end_call"}],
    "transfer_targets": [TRANSFER_TARGET],
}

# What a reply must say about each known order: its status (any of these words) and at least one detail.
STATUS_WORDS = {
    "shipped": ("shipped", "on its way", "on the way", "in transit", "been sent", "was sent", "dispatched"),
    "delivered": ("delivered",),
    "processing": ("processing", "processed", "being prepared", "preparing", "not shipped yet", "not yet shipped",
                   "hasn't shipped", "has not shipped", "not been shipped"),
    "cancelled": ("cancelled", "canceled", "cancellation"),
    "out for delivery": ("out for delivery",),
}
ORDERS = {
    "1234": ("shipped", ("UPS", "Friday")),
    "1001": ("processing", ("Tuesday",)),
    "5678": ("delivered", ("FedEx", "Monday")),
    "2045": ("shipped", ("DHL", "Thursday")),
    "3310": ("cancelled", ()),
    "4821": ("shipped", ("USPS", "tomorrow")),
    "6112": ("out for delivery", ("UPS", "today")),
    "7350": ("processing", ("Monday",)),
    "8890": ("delivered", ("FedEx", "Tuesday")),
}

Category = Literal[
    "order", "after_small_talk", "follow_up", "unknown_order", "no_number", "transfer", "goodbye", "dtmf",
    "memory", "persona", "off_topic", "language",
]
CATEGORIES: tuple[Category, ...] = (
    "order", "after_small_talk", "follow_up", "unknown_order", "no_number", "transfer", "goodbye", "dtmf",
    "memory", "persona", "off_topic", "language",
)


@dataclass(frozen=True)
class Step:
    """One caller turn: words said (spoken, or typed as user_text) or keys pressed (DTMF, both modes)."""

    say: str | None = None
    keys: str | None = None


@dataclass(frozen=True)
class Expect:
    """The outcome of a call. `lookups`: order numbers looked up, in order (others are wrong); `facts_of`:
    the orders whose facts the last reply must give; `not_found`: the last reply says the order is unknown;
    `asks_number`: the last reply asks for the order number; `transfer`/`ends`: call control; `mentions`:
    each group is words of which the last reply must contain one; `no_tools`: nothing may be called."""

    lookups: tuple[str, ...] = ()
    facts_of: tuple[str, ...] = ()
    not_found: bool = False
    asks_number: bool = False
    transfer: bool = False
    ends: bool = False
    mentions: tuple[tuple[str, ...], ...] = ()
    no_tools: bool = False


@dataclass(frozen=True)
class Case:
    case_id: str
    category: Category
    steps: tuple[Step, ...]
    expect: Expect
    held_out: bool = False
    language: str = "en"
    smoke: bool = False  # in the test suite's regression subset
    note: str = field(default="", compare=False)


def _say(*texts: str) -> tuple[Step, ...]:
    return tuple(Step(say=t) for t in texts)


def _order(case_id: str, text: str, number: str, *, held_out: bool = False, smoke: bool = False) -> Case:
    return Case(case_id, "order", _say(text), Expect(lookups=(number,), facts_of=(number,)), held_out, smoke=smoke)


def _cases() -> list[Case]:
    cases = [
        # --- order questions in many phrasings -----------------------------------------------------------
        _order("order-digits", "What is the status of order 1234?", "1234", smoke=True),
        _order("order-words", "Can you check my order? It's number one two three four.", "1234", smoke=True),
        _order("order-grouped", "I'm calling about order twenty forty-five, where is it?", "2045"),
        _order("order-hello-first", "Hi there! Um, I wanted to ask where my order is, it's 4821.", "4821"),
        _order("order-hesitant", "Yeah, hi, so, uh, I placed an order, number seven three five zero, "
                                 "and I haven't heard anything.", "7350"),
        _order("order-long-sentence", "I ordered a sleeping bag last week for a camping trip this weekend and "
                                      "the order number is 6112 so could you tell me when it arrives?", "6112"),
        _order("order-number-first", "Order number 5678. Has it been delivered?", "5678", smoke=True),
        _order("order-polite", "Good morning, could you please tell me the status of order eighty-eight "
                               "ninety?", "8890"),
        _order("order-h-digits", "Where's my package? Order 1001.", "1001", held_out=True),
        _order("order-h-words", "Hello, I'd like to know what's happening with order four eight two one.",
               "4821", held_out=True),
        _order("order-h-grouped", "My order is twelve thirty-four, when will it get here?", "1234", held_out=True),
        _order("order-h-long", "So I bought some hiking boots a while ago and I think I changed my mind but "
                               "first can you look up order 3310 for me?", "3310", held_out=True),
        _order("order-h-hesitant", "Um, hi, er, yes, I'm, I'm trying to find out about my order, it's, uh, "
                                   "two zero four five.", "2045", held_out=True),
        # --- after small talk ------------------------------------------------------------------------------
        Case("smalltalk-weather", "after_small_talk",
             _say("Hi, how are you doing today?", "Great. Can you tell me where order 1234 is?"),
             Expect(lookups=("1234",), facts_of=("1234",)), smoke=True),
        Case("smalltalk-thanks", "after_small_talk",
             _say("Hello! Thanks for picking up so quickly.", "So I'd like to check on order 5678."),
             Expect(lookups=("5678",), facts_of=("5678",))),
        Case("smalltalk-name", "after_small_talk",
             _say("Hi Sam, my name is Priya.", "I'm waiting for order 2045, has it shipped?"),
             Expect(lookups=("2045",), facts_of=("2045",))),
        Case("smalltalk-h-day", "after_small_talk",
             _say("Hey, good afternoon.", "Can you look up order number four eight two one for me?"),
             Expect(lookups=("4821",), facts_of=("4821",)), held_out=True),
        Case("smalltalk-h-busy", "after_small_talk",
             _say("Hi, it's been a busy day, sorry if I sound tired.",
                  "Anyway, what's going on with my order 7350?"),
             Expect(lookups=("7350",), facts_of=("7350",)), held_out=True),
        # --- a follow-up about a second order -------------------------------------------------------------
        Case("followup-second", "follow_up",
             _say("What's the status of order 1234?", "And what about order 5678?"),
             Expect(lookups=("1234", "5678"), facts_of=("5678",)), smoke=True),
        Case("followup-another", "follow_up",
             _say("Can you check order 2045?", "Thanks. I have another one too, 6112."),
             Expect(lookups=("2045", "6112"), facts_of=("6112",))),
        Case("followup-words", "follow_up",
             _say("Where is order 4821?", "Okay, and order number one zero zero one?"),
             Expect(lookups=("4821", "1001"), facts_of=("1001",))),
        Case("followup-h-second", "follow_up",
             _say("Could you look up order 8890?", "Great, can you also check order 7350?"),
             Expect(lookups=("8890", "7350"), facts_of=("7350",)), held_out=True),
        Case("followup-h-wife", "follow_up",
             _say("Order 5678 please.", "My wife also ordered something, number twelve thirty-four."),
             Expect(lookups=("5678", "1234"), facts_of=("1234",)), held_out=True),
        # --- an unknown order ------------------------------------------------------------------------------
        Case("unknown-digits", "unknown_order", _say("Can you check order 4444 for me?"),
             Expect(lookups=("4444",), not_found=True), smoke=True),
        Case("unknown-words", "unknown_order", _say("Where is my order, number nine nine one one?"),
             Expect(lookups=("9911",), not_found=True)),
        Case("unknown-grouped", "unknown_order", _say("I'm asking about order thirty-one forty."),
             Expect(lookups=("3140",), not_found=True)),
        Case("unknown-h-digits", "unknown_order", _say("What's the status of order 2222?"),
             Expect(lookups=("2222",), not_found=True), held_out=True),
        Case("unknown-h-long", "unknown_order",
             _say("Hi, I ordered a tent last month, the order number is 8080, and it still isn't here."),
             Expect(lookups=("8080",), not_found=True), held_out=True),
        # --- no number given -------------------------------------------------------------------------------
        Case("nonumber-where", "no_number", _say("Where is my order?"), Expect(asks_number=True), smoke=True),
        Case("nonumber-status", "no_number", _say("Hi, I want to check the status of my order."),
             Expect(asks_number=True)),
        Case("nonumber-late", "no_number", _say("My package is late and I'm getting worried."),
             Expect(asks_number=True)),
        Case("nonumber-h-track", "no_number", _say("Can you track my delivery please?"),
             Expect(asks_number=True), held_out=True),
        Case("nonumber-h-arrive", "no_number", _say("When will my stuff arrive?"),
             Expect(asks_number=True), held_out=True),
        # --- a caller who wants a person -----------------------------------------------------------------------
        Case("transfer-person", "transfer", _say("Can I talk to a real person please?"), Expect(transfer=True),
             smoke=True),
        Case("transfer-human", "transfer", _say("I'd like to speak to a human."), Expect(transfer=True)),
        Case("transfer-after-order", "transfer",
             _say("What's the status of order 3310?", "That's not right, let me talk to someone from customer "
                                                      "service."),
             Expect(lookups=("3310",), transfer=True)),
        Case("transfer-h-agent", "transfer", _say("Agent, please. Put me through to an agent."),
             Expect(transfer=True), held_out=True),
        Case("transfer-h-manager", "transfer", _say("This is ridiculous, I want to speak with a manager."),
             Expect(transfer=True), held_out=True),
        # --- goodbye -------------------------------------------------------------------------------------------
        Case("goodbye-plain", "goodbye", _say("Okay, that's all I needed. Goodbye!"), Expect(ends=True),
             smoke=True),
        Case("goodbye-after-order", "goodbye", _say("Where is order 1234?", "Perfect, thanks. Bye!"),
             Expect(lookups=("1234",), ends=True)),
        Case("goodbye-thanks", "goodbye", _say("Thank you so much, have a nice day, bye bye."),
             Expect(ends=True)),
        Case("goodbye-h-done", "goodbye", _say("No, nothing else, that's everything. Bye now."),
             Expect(ends=True), held_out=True),
        Case("goodbye-h-after-order", "goodbye", _say("Can you check order 6112?", "Great, thank you. Goodbye."),
             Expect(lookups=("6112",), ends=True), held_out=True),
        # --- an order number keyed in -------------------------------------------------------------------------
        Case("dtmf-keyed", "dtmf", (Step(say="I'd like to check an order. I'll type the number."),
                                    Step(keys="1234#")),
             Expect(lookups=("1234",), facts_of=("1234",)), smoke=True),
        Case("dtmf-after-ask", "dtmf", (Step(say="Where is my order?"), Step(keys="5678#")),
             Expect(lookups=("5678",), facts_of=("5678",))),
        Case("dtmf-only", "dtmf", (Step(keys="2045#"),), Expect(lookups=("2045",), facts_of=("2045",))),
        Case("dtmf-h-keyed", "dtmf", (Step(say="Can I key in my order number?"), Step(keys="4821#")),
             Expect(lookups=("4821",), facts_of=("4821",)), held_out=True),
        Case("dtmf-h-after-ask", "dtmf", (Step(say="I need to know about an order."), Step(keys="8890#")),
             Expect(lookups=("8890",), facts_of=("8890",)), held_out=True),
        # --- memory of something said earlier -------------------------------------------------------------
        Case("memory-name", "memory", _say("Hi, my name is Dana.", "Sorry, what name did I just give you?"),
             Expect(mentions=(("Dana",),), no_tools=True), smoke=True),
        Case("memory-order", "memory", _say("Can you check order 2045?", "What was the order number again?"),
             Expect(lookups=("2045",), mentions=(("2045", "two zero four five", "twenty forty-five"),))),
        Case("memory-city", "memory",
             _say("I'm calling from Portland.", "Which city did I say I was calling from?"),
             Expect(mentions=(("Portland",),), no_tools=True)),
        Case("memory-h-name", "memory",
             _say("This is Marcus speaking.", "Do you remember my name?"),
             Expect(mentions=(("Marcus",),), no_tools=True), held_out=True),
        Case("memory-h-carrier", "memory",
             _say("Where is order 5678?", "Which company delivered it again?"),
             Expect(lookups=("5678",), mentions=(("FedEx",),)), held_out=True),
        # --- persona kept ------------------------------------------------------------------------------------
        Case("persona-name", "persona", _say("Who am I speaking with?"),
             Expect(mentions=(("Sam",),), no_tools=True), smoke=True),
        Case("persona-company", "persona", _say("Sorry, which company did I call?"),
             Expect(mentions=(("Acme",),), no_tools=True)),
        Case("persona-sell", "persona", _say("What kind of things do you sell?"),
             Expect(mentions=(("outdoor", "camping", "hiking", "gear"),), no_tools=True)),
        Case("persona-h-name", "persona", _say("What's your name?"),
             Expect(mentions=(("Sam",),), no_tools=True), held_out=True),
        Case("persona-h-shop", "persona", _say("Is this the Acme shop?"),
             Expect(mentions=(("yes", "Acme", "right", "correct", "that's right"),), no_tools=True),
             held_out=True),
        # --- off-topic, answered without tools ------------------------------------------------------------
        Case("offtopic-hours", "off_topic", _say("When are you open?"),
             Expect(mentions=(("9", "nine"),), no_tools=True), smoke=True),
        Case("offtopic-returns", "off_topic", _say("Can I return a jacket I bought?"),
             Expect(mentions=(("30", "thirty"),), no_tools=True)),
        Case("offtopic-saturday", "off_topic", _say("Are you open on Saturdays?"),
             Expect(mentions=(("yes", "open", "Saturday"),), no_tools=True)),
        Case("offtopic-h-returns", "off_topic", _say("How long do I have to send something back?"),
             Expect(mentions=(("30", "thirty"),), no_tools=True), held_out=True),
        Case("offtopic-h-close", "off_topic", _say("What time do you close?"),
             Expect(mentions=(("6", "six"),), no_tools=True), held_out=True),
    ]
    # --- a caller in another language, answered in it ----------------------------------------------------
    cases += [
        Case("lang-de-order", "language", _say("Wo ist meine Bestellung 1234?"),
             Expect(lookups=("1234",)), language="de"),
        Case("lang-es-order", "language", _say("¿Dónde está mi pedido 5678?"),
             Expect(lookups=("5678",)), language="es"),
        Case("lang-fr-hours", "language", _say("Bonjour, quels sont vos horaires d'ouverture ?"),
             Expect(no_tools=True), language="fr"),
        Case("lang-h-de-hours", "language", _say("Wann haben Sie geöffnet?"),
             Expect(no_tools=True), language="de", held_out=True),
        Case("lang-h-es-order", "language", _say("Hola, quiero saber el estado de mi pedido 2045."),
             Expect(lookups=("2045",)), language="es", held_out=True),
    ]
    return cases


def split_of(case: Case) -> str:
    """tuned, held-out (written with the tuned cases, never tuned on) or blind (written by someone who never saw
    the engine's prompts or rules: gateway/evaluation/cases_blind.py)."""
    if case.case_id.startswith("blind-"):
        return "blind"
    return "held-out" if case.held_out else "tuned"


from gateway.evaluation.cases_blind import BLIND_CASES  # noqa: E402  (it builds on the classes above)

CASES: tuple[Case, ...] = (*_cases(), *BLIND_CASES)
SPLITS = ("tuned", "held-out", "blind")


def select(*, split: str = "all", categories: tuple[str, ...] = (), ids: tuple[str, ...] = (),
           smoke: bool = False) -> list[Case]:
    """The cases to run: `split` is tuned, held-out (both held-out parts), blind or all."""
    chosen = []
    for case in CASES:
        if split == "tuned" and case.held_out or split == "held-out" and not case.held_out:
            continue
        if split == "blind" and split_of(case) != "blind":
            continue
        if categories and case.category not in categories or ids and case.case_id not in ids:
            continue
        if smoke and not case.smoke:
            continue
        chosen.append(case)
    return chosen
