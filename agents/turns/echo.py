"""Not the assistant's own echo (SPEC §5): our voice coming back down the line is quieter than what we sent.

While the assistant talks, caller audio must be within `suppression_db` of the loudest audio sent in the
last moments (AudioSink.output_level) to count as speech.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EchoGate:
    suppression_db: float = 12.0  # 0 = off

    @property
    def on(self) -> bool:
        return self.suppression_db > 0

    def speech_floor(self, output_level: int) -> int:
        """The pcm16 RMS caller audio must exceed to be speech while `output_level` is being sent."""
        if not self.on:
            return 0
        return int(output_level * 10 ** (-self.suppression_db / 20))
