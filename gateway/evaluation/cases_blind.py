"""Blind held-out scripted calls: written apart from the tuned and held-out sets in cases.py, never seen
while tuning. Same agent, same judging, same conventions as cases.py."""

from gateway.evaluation.cases import Case, Expect, Step


def _say(*texts: str) -> tuple[Step, ...]:
    return tuple(Step(say=t) for t in texts)


def _order(case_id: str, text: str, number: str) -> Case:
    return Case(case_id, "order", _say(text), Expect(lookups=(number,), facts_of=(number,)), held_out=True)


def _cases() -> list[Case]:
    return [
        # --- order questions ------------------------------------------------------------------------------
        _order("blind-order-pairs", "Hey, yeah, I'm calling about order sixty-one twelve, somebody told me "
                                    "it would show up today?", "6112"),
        _order("blind-order-hash", "Hi, um, could you pull up order #3310? I'm a little worried I might "
                                   "have messed something up with it.", "3310"),
        _order("blind-order-double", "Okay so the order is double eight, nine, zero, and I just want to know "
                                     "if it actually got dropped off because nobody rang the bell.", "8890"),
        # --- after small talk -----------------------------------------------------------------------------
        Case("blind-smalltalk-hold", "after_small_talk",
             _say("Oh hi, wow, a real answer, I've been stuck on hold with three other companies this morning.",
                  "Okay, so, I'm checking on order 8890."),
             Expect(lookups=("8890",), facts_of=("8890",)), held_out=True),
        Case("blind-smalltalk-rough-day", "after_small_talk",
             _say("Hello Sam, I hope your day is going better than mine, ha.",
                  "So, um, my order, it's one two three four, is there any news on it?"),
             Expect(lookups=("1234",), facts_of=("1234",)), held_out=True),
        Case("blind-smalltalk-cold", "after_small_talk",
             _say("Hi there. Gosh, it is freezing out here today, I can barely feel my fingers.",
                  "Right, sorry, I'm rambling. That's actually why I'm calling, the gloves I ordered, "
                  "order number twenty forty-five, where are they?"),
             Expect(lookups=("2045",), facts_of=("2045",)), held_out=True),
        # --- a follow-up about a second order -------------------------------------------------------------
        Case("blind-followup-while-i-have-you", "follow_up",
             _say("Hi, could you check order one zero zero one for me?",
                  "Okay. While I have you, there's a second one as well, seventy-three fifty."),
             Expect(lookups=("1001", "7350"), facts_of=("7350",)), held_out=True),
        Case("blind-followup-husband", "follow_up",
             _say("I need the status of order 4821, please.",
                  "Hmm, alright. And my husband placed one too, it's number 5678, can you check that one?"),
             Expect(lookups=("4821", "5678"), facts_of=("5678",)), held_out=True),
        Case("blind-followup-cancelled", "follow_up",
             _say("Where's order twenty forty-five at?",
                  "Got it, thanks. Oh, and what happened with three three one zero? I never got that one."),
             Expect(lookups=("2045", "3310"), facts_of=("3310",)), held_out=True),
        # --- an unknown order -----------------------------------------------------------------------------
        Case("blind-unknown-website", "unknown_order",
             _say("Hi, my order number is 5129 and the website just shows nothing, can you see it on your end?"),
             Expect(lookups=("5129",), not_found=True), held_out=True),
        Case("blind-unknown-poles", "unknown_order",
             _say("Yes, hello, I'm calling about order seven zero zero three, it was a pair of trekking poles."),
             Expect(lookups=("7003",), not_found=True), held_out=True),
        Case("blind-unknown-yesterday", "unknown_order",
             _say("Yeah, order number sixty-six fifty, it was supposed to be here yesterday and it's not."),
             Expect(lookups=("6650",), not_found=True), held_out=True),
        # --- no number given ------------------------------------------------------------------------------
        Case("blind-nonumber-tent", "no_number",
             _say("Yeah hi, I ordered a tent like two weeks ago and it still hasn't turned up, "
                  "can you see where it is?"),
             Expect(asks_number=True), held_out=True),
        Case("blind-nonumber-tracking", "no_number",
             _say("I got an email saying my stuff shipped but the tracking link is broken, "
                  "could you check on it for me?"),
             Expect(asks_number=True), held_out=True),
        Case("blind-nonumber-hesitant", "no_number",
             _say("Um, hello? I'm just, uh, calling to see if my, my order went out yet."),
             Expect(asks_number=True), held_out=True),
        # --- a caller who wants a person --------------------------------------------------------------------
        Case("blind-transfer-circles", "transfer",
             _say("Honestly I've been going around in circles with this, can you just put me through to "
                  "somebody who works there?"),
             Expect(transfer=True), held_out=True),
        Case("blind-transfer-after-order", "transfer",
             _say("Order 1001, please.",
                  "Tuesday? That's way too late, I need it for a trip. Let me speak to someone about this."),
             Expect(lookups=("1001",), transfer=True), held_out=True),
        Case("blind-transfer-employee", "transfer",
             _say("Hi, um, I'd rather talk to an actual employee if that's possible, it's a complicated "
                  "question about a warranty."),
             Expect(transfer=True), held_out=True),
        # --- goodbye ------------------------------------------------------------------------------------------
        Case("blind-goodbye-take-care", "goodbye",
             _say("Alright, I think you've answered everything. Thanks Sam, take care, bye."),
             Expect(ends=True), held_out=True),
        Case("blind-goodbye-after-order", "goodbye",
             _say("Could you check on order 8890?",
                  "Oh good, so it's already there. Okay, that's it from me, bye-bye."),
             Expect(lookups=("8890",), ends=True), held_out=True),
        Case("blind-goodbye-never-mind", "goodbye",
             _say("You know what, never mind, I'll sort it out myself. Bye."),
             Expect(ends=True), held_out=True),
        # --- an order number keyed in ---------------------------------------------------------------------
        Case("blind-dtmf-punch-in", "dtmf",
             (Step(say="Reading numbers out loud never works for me, can I just punch my order number in?"),
              Step(keys="7350#")),
             Expect(lookups=("7350",), facts_of=("7350",)), held_out=True),
        Case("blind-dtmf-noisy", "dtmf",
             (Step(say="Hi, I'm calling about an order, but I'm on a really noisy street, so I'll type it."),
              Step(keys="1001#")),
             Expect(lookups=("1001",), facts_of=("1001",)), held_out=True),
        Case("blind-dtmf-typing-now", "dtmf",
             (Step(say="Hang on, let me find the receipt... okay, got it, I'm typing the order number now."),
              Step(keys="3310#")),
             Expect(lookups=("3310",), facts_of=("3310",)), held_out=True),
        # --- memory of something said earlier -------------------------------------------------------------
        Case("blind-memory-full-name", "memory",
             _say("Hi, this is Rosalind Okafor, I'm calling on behalf of my dad.",
                  "Sorry, can you tell me back the name I gave you, just to make sure you got it?"),
             Expect(mentions=(("Rosalind", "Okafor"),), no_tools=True), held_out=True),
        Case("blind-memory-day", "memory",
             _say("Can you look up order 2045?", "Sorry, I was writing that down, which day did you say?"),
             Expect(lookups=("2045",), mentions=(("Thursday",),)), held_out=True),
        Case("blind-memory-color", "memory",
             _say("So I bought a green rain jacket from you a few days ago.",
                  "Wait, what color did I just say the jacket was?"),
             Expect(mentions=(("green",),), no_tools=True), held_out=True),
        # --- persona kept -----------------------------------------------------------------------------------
        Case("blind-persona-line-cut", "persona",
             _say("Sorry, the line cut out for a second, who did you say I'm talking to?"),
             Expect(mentions=(("Sam",),), no_tools=True), held_out=True),
        Case("blind-persona-wrong-number", "persona",
             _say("Wait, is this the outdoor gear store or did I dial the wrong number?"),
             Expect(mentions=(("Acme", "yes", "right", "correct", "outdoor"),), no_tools=True), held_out=True),
        Case("blind-persona-help-with", "persona",
             _say("What exactly can you help me with on this line?"),
             Expect(mentions=(("order", "orders"),), no_tools=True), held_out=True),
        # --- off-topic, answered without tools ------------------------------------------------------------
        Case("blind-offtopic-open-morning", "off_topic",
             _say("Hi, what time do you guys open in the morning?"),
             Expect(mentions=(("9", "nine"),), no_tools=True), held_out=True),
        Case("blind-offtopic-boots-fit", "off_topic",
             _say("If the boots don't fit, how many days have I got to return them?"),
             Expect(mentions=(("30", "thirty"),), no_tools=True), held_out=True),
        Case("blind-offtopic-return-cost", "off_topic",
             _say("Do I have to pay anything to send a return back to you?"),
             Expect(mentions=(("free", "no charge", "no cost"),), no_tools=True), held_out=True),
        # --- a caller in another language, answered in it ------------------------------------------------
        Case("blind-lang-de-order", "language",
             _say("Guten Tag, ich wollte mal nachfragen, wo meine Bestellung bleibt, die Nummer ist sechs eins "
                  "eins zwei."),
             Expect(lookups=("6112",)), language="de", held_out=True),
        Case("blind-lang-es-returns", "language",
             _say("Buenas tardes, compré unas botas la semana pasada y no me quedan bien, ¿puedo devolverlas?"),
             Expect(no_tools=True), language="es", held_out=True),
        Case("blind-lang-fr-order", "language",
             _say("Bonjour, euh, je vous appelle pour ma commande numéro 7350, elle n'est toujours pas arrivée."),
             Expect(lookups=("7350",)), language="fr", held_out=True),
    ]


BLIND_CASES: tuple[Case, ...] = tuple(_cases())
