"""Language names by ISO 639-1 code, for prompts and messages (the codes are what the API and models use)."""

NAMES: dict[str, str] = {
    "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian", "fi": "Finnish",
    "fr": "French", "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian",
    "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay", "nb": "Norwegian Bokmål", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian", "sk": "Slovak",
    "sr": "Serbian", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai", "tr": "Turkish",
    "uk": "Ukrainian", "vi": "Vietnamese", "zh": "Chinese",
}


def name(code: str) -> str:
    """"fr" -> "French"; an unlisted code is returned as it is."""
    return NAMES.get(code, code)


def reply_instruction(code: str) -> str | None:
    """The line that tells the LLM which language to answer in; None for English (the models' default,
    and the prompts English sessions were measured with stay byte for byte the same)."""
    if code == "en":
        return None
    return (f"The caller speaks {name(code)}. Always reply in {name(code)} ({code}), "
            "even though these instructions are in another language.")


# A few of each language's commonest words: enough to tell whether a sentence came out in English instead of the
# session's language (agents/providers/llm/grounding.py), not a language identifier.
_COMMON: dict[str, frozenset[str]] = {
    "en": frozenset("the is your you and has have been was will of to it found that this with for are".split()),
    "de": frozenset("der die das ist und ihre ihr sie wurde wird nicht bestellung mit von zu ein eine am den "
                    "dem ich wir haben".split()),
    "es": frozenset("el la los las es y su sus pedido que de está ha sido por una un con se".split()),
    "fr": frozenset("le la les est et votre vos commande de des une un été a sera pour avec nous vous".split()),
    "it": frozenset("il la le è e suo sua ordine di del della un una stato sarà per con".split()),
    "nl": frozenset("de het is en uw je bestelling van een wordt werd met voor op".split()),
    "pt": frozenset("o a os as é e seu sua pedido de do da um uma foi será para com".split()),
}


def sounds_english(text: str, language: str) -> bool:
    """`text` reads as English rather than `language` (more of English's commonest words than of its)."""
    if language == "en" or language not in _COMMON:
        return False
    words = [w.strip(".,;:!?¿¡'\"()").lower() for w in text.split()]
    english = sum(w in _COMMON["en"] for w in words)
    own = sum(w in _COMMON[language] for w in words)
    return english > own
