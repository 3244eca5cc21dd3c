"""The agent's own fixed lines (hold line, fallbacks, goodbye) in the session's language.

The defaults are English; a session in another language says them in its own,
so a German caller does not hear "Let me look that up." in a German voice. A
line configured to something else is the operator's wording and is said as
written.
"""

HOLD = "Let me look that up."
SAY_AGAIN = "Sorry, could you say that again?"
TOOL_FAILED = "Sorry, I could not get that information just now."
TRANSFERRING = "Transferring your call now."
# The transfer announced did not go through (refused, busy, no answer): the caller is still with the agent.
TRANSFER_FAILED = "Sorry, I could not put you through just now. How else can I help?"
GOODBYE = "Thank you for calling. Goodbye."
# A model (the recogniser, the language model) failed or its server is down: the call stays up.
TROUBLE = "Sorry, I'm having some trouble right now. Could you say that again in a moment?"
# A tool call lacked a value only the caller can give (agents/tools/runner.py `lacking`). ASK_FOR is
# filled from the parameter's (English) description, so other languages get ASK_DETAILS instead.
ASK_FOR = "Could you tell me {what}?"
ASK_DETAILS = "Could you give me a few more details, please?"

_TRANSLATIONS: dict[str, dict[str, str]] = {
    HOLD: {
        "de": "Einen Moment, ich sehe nach.", "es": "Un momento, lo compruebo.", "fr": "Un instant, je vérifie.",
        "it": "Un momento, controllo.", "nl": "Een moment, ik kijk het even na.", "pt": "Um momento, vou verificar.",
    },
    SAY_AGAIN: {
        "de": "Entschuldigung, können Sie das bitte wiederholen?", "es": "Perdone, ¿puede repetirlo?",
        "fr": "Pardon, pouvez-vous répéter ?", "it": "Scusi, può ripetere?", "nl": "Sorry, kunt u dat herhalen?",
        "pt": "Desculpe, pode repetir?",
    },
    TOOL_FAILED: {
        "de": "Entschuldigung, ich konnte diese Information gerade nicht abrufen.",
        "es": "Lo siento, no he podido obtener esa información ahora mismo.",
        "fr": "Désolé, je n'ai pas pu obtenir cette information pour le moment.",
        "it": "Mi dispiace, non riesco a ottenere questa informazione in questo momento.",
        "nl": "Sorry, ik kon die informatie nu niet ophalen.", "pt": "Desculpe, não consegui obter essa informação agora.",
    },
    TRANSFERRING: {
        "de": "Ich verbinde Sie jetzt.", "es": "Le paso la llamada ahora.", "fr": "Je vous transfère maintenant.",
        "it": "La trasferisco ora.", "nl": "Ik verbind u nu door.", "pt": "Vou transferir a sua chamada agora.",
    },
    TRANSFER_FAILED: {
        "de": "Entschuldigung, die Weiterleitung hat gerade nicht geklappt. Wie kann ich Ihnen sonst helfen?",
        "es": "Lo siento, ahora mismo no he podido pasarle la llamada. ¿En qué más puedo ayudarle?",
        "fr": "Désolé, je n'ai pas pu vous transférer pour le moment. Puis-je vous aider autrement ?",
        "it": "Mi dispiace, non sono riuscito a trasferirla in questo momento. Posso aiutarla in altro modo?",
        "nl": "Sorry, doorverbinden lukte nu niet. Waarmee kan ik u verder helpen?",
        "pt": "Desculpe, não consegui transferir a chamada agora. Em que mais posso ajudar?",
    },
    GOODBYE: {
        "de": "Vielen Dank für Ihren Anruf. Auf Wiederhören.", "es": "Gracias por su llamada. Adiós.",
        "fr": "Merci de votre appel. Au revoir.", "it": "Grazie per la chiamata. Arrivederci.",
        "nl": "Bedankt voor uw oproep. Tot ziens.", "pt": "Obrigado pela sua chamada. Adeus.",
    },
    TROUBLE: {
        "de": "Entschuldigung, ich habe gerade ein technisches Problem. Können Sie das gleich noch einmal sagen?",
        "es": "Lo siento, tengo un problema en este momento. ¿Puede repetirlo en un momento?",
        "fr": "Désolé, j'ai un petit problème en ce moment. Pouvez-vous répéter dans un instant ?",
        "it": "Mi scusi, ho un problema in questo momento. Può ripetere tra un attimo?",
        "nl": "Sorry, ik heb op dit moment een probleem. Kunt u het zo nog eens zeggen?",
        "pt": "Desculpe, estou com um problema neste momento. Pode repetir daqui a pouco?",
    },
    ASK_DETAILS: {
        "de": "Können Sie mir bitte noch ein paar Angaben machen?",
        "es": "¿Podría darme algunos datos más, por favor?",
        "fr": "Pourriez-vous me donner quelques précisions, s'il vous plaît ?",
        "it": "Può darmi qualche dettaglio in più, per favore?", "nl": "Kunt u mij wat meer gegevens geven?",
        "pt": "Pode dar-me mais alguns detalhes, por favor?",
    },
}


def in_language(line: str, language: str) -> str:
    """`line` in `language` when it is one of the English defaults and a translation exists."""
    return _TRANSLATIONS.get(line, {}).get(language, line)


def ask_for(what: str, language: str) -> str:
    """The question for a missing value ("the order number" -> "Could you tell me the order number?").

    `what` comes from an English tool description, so a session in another language gets the general
    ASK_DETAILS in its own language rather than a sentence half in English.
    """
    return ASK_FOR.format(what=what) if language == "en" else in_language(ASK_DETAILS, language)
