"""A caller who never pauses (or a line whose noise the VAD takes for speech) is answered all the same."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TurnLength:
    max_ms: int = 30000  # 0 = never: a turn ends on a pause only

    def too_long(self, speech_ms: int) -> bool:
        return 0 < self.max_ms <= speech_ms
