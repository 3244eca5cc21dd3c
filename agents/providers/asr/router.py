"""One ASR per language behind the ASR protocol: English on the fast tiny.en, other languages on a multilingual model."""

from collections.abc import Mapping, Sequence

from agents.errors import InvalidRequest
from agents.providers.asr.base import ASR, ASRStream


class LanguageRouter:
    """Routes each stream to the recogniser that handles its language.

    `routes` maps an ISO 639-1 code to a loaded ASR that transcribes it; one
    ASR may serve many languages (a multilingual Whisper) and is then loaded
    once. `languages` is exactly the routed ones. Cheap; built at start-up.
    """

    name = "router"

    def __init__(self, routes: Mapping[str, ASR]) -> None:
        if not routes:
            raise ValueError("a LanguageRouter needs at least one language")
        for language, asr in routes.items():
            if language not in asr.languages:
                raise ValueError(f"ASR {asr.name!r} does not transcribe {language!r}")
        self.routes: dict[str, ASR] = dict(routes)
        self.languages: frozenset[str] = frozenset(routes)

    @property
    def providers(self) -> list[ASR]:
        """Each distinct recogniser once, in route order."""
        seen: dict[int, ASR] = {}
        for asr in self.routes.values():
            seen.setdefault(id(asr), asr)
        return list(seen.values())

    def open(self, language: str, sample_rate: int = 16000, vocabulary: Sequence[str] = ()) -> ASRStream:
        """The stream of the recogniser for `language` (primed with `vocabulary`); InvalidRequest(param="language")
        if none."""
        asr = self.routes.get(language) if isinstance(language, str) else None
        if asr is None:
            raise InvalidRequest(
                f"language {language!r} is not installed (installed: {', '.join(sorted(self.languages))})",
                param="language",
            )
        return asr.open(language, sample_rate, vocabulary) if vocabulary else asr.open(language, sample_rate)

    def model_for(self, language: str) -> ASR | None:
        return self.routes.get(language)

    def warm_up(self) -> None:
        """Warm up each recogniser once (blocking: at load time, off the event loop)."""
        for asr in self.providers:
            warm_up = getattr(asr, "warm_up", None)
            if warm_up is not None:
                warm_up()
