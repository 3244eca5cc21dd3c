"""A look-up's result as one plain sentence in the session's language, for when the model's answer lacks it.

Measured with `parley eval` (typed language calls): after a look-up the 0.5B
model answered a Spanish caller in English ("You found that your order 5678 is
delivered ...") and greeted a German caller again instead of giving the result.
Writing the notes in the caller's language made it worse (it read the German
note aloud), so grounding.py replaces such a first sentence with the result's
facts joined by the language's own words. The values stay as the tool returned
them: a word nobody translated is still true; an invented translation might not be.
"""

FACT_SENTENCES: dict[str, str] = {  # "{about}": what was looked up; "{facts}": labelled(result)
    "de": "Zu {about}: {facts}.",
    "es": "Sobre {about}: {facts}.",
    "fr": "Pour {about} : {facts}.",
    "it": "Per {about}: {facts}.",
    "nl": "Voor {about}: {facts}.",
    "pt": "Sobre {about}: {facts}.",
}


def labelled(facts: dict) -> str:
    """Facts as "status: shipped, carrier: UPS" (no English glue words for a sentence in another language)."""
    parts = []
    for key, value in facts.items():
        if value is None or value == "" or isinstance(value, bool):
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key.replace('_', ' ')}: {shown}")
    return ", ".join(parts)
