"""One ASR per language behind the ASR protocol: English on the fast tiny.en, other languages on a multilingual model;
a session (or its persona) may name another loaded model for its language (`asr.model`)."""

from collections.abc import Mapping, Sequence

from agents.errors import InvalidRequest
from agents.providers.asr.base import ASR, ASRStream


class LanguageRouter:
    """Routes each stream to the recogniser that handles its language.

    `routes` maps an ISO 639-1 code to a loaded ASR that transcribes it; one
    ASR may serve many languages (a multilingual Whisper) and is then loaded
    once. `languages` is exactly the routed ones. `choices` maps (model name,
    language) to the recogniser a session in that language gets when it picks
    that model (asr.model: "tiny.en", "base"); the routes themselves need not be
    listed. Cheap; built at start-up.
    """

    name = "router"

    def __init__(self, routes: Mapping[str, ASR], choices: Mapping[tuple[str, str], ASR] | None = None) -> None:
        if not routes:
            raise ValueError("a LanguageRouter needs at least one language")
        for language, asr in routes.items():
            if language not in asr.languages:
                raise ValueError(f"ASR {asr.name!r} does not transcribe {language!r}")
        self.routes: dict[str, ASR] = dict(routes)
        self.languages: frozenset[str] = frozenset(routes)
        self.choices: dict[tuple[str, str], ASR] = {}
        for (model, language), asr in (choices or {}).items():
            if language not in asr.languages:
                raise ValueError(f"ASR {model!r} does not transcribe {language!r}")
            if language in self.languages:
                self.choices[(model, language)] = asr

    def models_for(self, language: str) -> list[str]:
        """The names of the models a session in `language` may pick (asr.model), sorted."""
        return sorted(model for model, lang in self.choices if lang == language)

    @property
    def providers(self) -> list[ASR]:
        """Each distinct recogniser once, in route order."""
        seen: dict[int, ASR] = {}
        for asr in self.routes.values():
            seen.setdefault(id(asr), asr)
        return list(seen.values())

    def open(self, language: str, sample_rate: int = 16000, vocabulary: Sequence[str] = (),
             model: str | None = None) -> ASRStream:
        """The stream of the recogniser for `language` (primed with `vocabulary`), or of the one named `model`;
        InvalidRequest(param="language") if none, InvalidRequest(param="asr") for a model that does not hear it."""
        asr = self.routes.get(language) if isinstance(language, str) else None
        if asr is None:
            raise InvalidRequest(
                f"language {language!r} is not installed (installed: {', '.join(sorted(self.languages))})",
                param="language",
            )
        if model is not None:
            asr = self.choices.get((model, language))
            if asr is None:
                offered = ", ".join(self.models_for(language)) or "none"
                raise InvalidRequest(f"asr.model {model!r} does not hear {language!r} here (available: {offered})",
                                     param="asr")
        return asr.open(language, sample_rate, vocabulary) if vocabulary else asr.open(language, sample_rate)

    def model_for(self, language: str) -> ASR | None:
        return self.routes.get(language)

    def warm_up(self) -> None:
        """Warm up each recogniser once (blocking: at load time, off the event loop)."""
        for asr in self.providers:
            warm_up = getattr(asr, "warm_up", None)
            if warm_up is not None:
                warm_up()
