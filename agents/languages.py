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
