"""Caller key presses (DTMF) collected into a typed turn: the keypad half of `Conversation` (agents/conversation.py).

Keys collect until "#" or a pause of `Engine.dtmf_pause_ms`, then become the user turn "caller pressed 1234#";
the first press stops the reply like typed text does.
"""

import asyncio

DTMF_KEYS = frozenset("0123456789*#ABCD")


class Keypad:
    """Mixed into Conversation, which provides `engine`, `_closing`, `last_activity`, `_generation`,
    `_barge_in` and `feed_text`, and sets `_dtmf` / `_dtmf_timer` up."""

    _dtmf: str  # key presses collected for the next DTMF turn
    _dtmf_timer: asyncio.TimerHandle | None

    def feed_dtmf(self, digit: str) -> None:
        """One caller key press (0-9 * # A-D). Keys collect until "#" or a pause of `dtmf_pause_ms`,
        then become a typed user turn "caller pressed 1234#"; a press stops the reply like user_text."""
        if digit not in DTMF_KEYS:
            raise ValueError(f"not a DTMF key: {digit!r} (0-9, *, #, A-D)")
        if self._closing:
            return
        self.last_activity = self.engine.clock()
        if not self._dtmf:
            self._generation += 1
            self._barge_in()
        self._dtmf += digit
        if self._dtmf_timer is not None:
            self._dtmf_timer.cancel()
            self._dtmf_timer = None
        if digit == "#":
            self._flush_dtmf()
        else:
            loop = asyncio.get_running_loop()
            self._dtmf_timer = loop.call_later(self.engine.dtmf_pause_ms / 1000, self._flush_dtmf)

    def _flush_dtmf(self) -> None:
        self._dtmf_timer = None
        keys, self._dtmf = self._dtmf, ""
        if keys and not self._closing:
            self.feed_text(f"caller pressed {keys}")
