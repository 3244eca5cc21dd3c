"""One call as pjsua2 sees it: created, driven and deleted on the UA thread; it reports to the loop.

pjsua2 calls these methods on the UA thread (SIP events, during
libHandleEvents) or on its media thread (RFC 2833 digits). They never touch
an asyncio object: each becomes `ua.post(key, what, *args)`, which reaches
the call's SipCall on the event loop through `loop.call_soon_threadsafe`.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pjsua2 as pj
import structlog

from sip.bridge import BridgePort, FrameQueues

if TYPE_CHECKING:
    from sip.ua import UserAgent

log = structlog.get_logger(__name__)

# Media states in which audio flows at least one way: connect the bridge.
_FLOWING = (pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD)


@dataclass(frozen=True)
class CallDetails:
    """What the loop learns about a new call; `key` names it on both sides of the thread boundary."""

    key: int
    direction: str  # "inbound" | "outbound"
    call_id: str  # the SIP Call-ID
    called: str  # inbound: the request-URI user part (the dialled number or extension)
    caller: str  # the From user part (or its URI when it has none)
    remote_uri: str


class PjCall(pj.Call):
    def __init__(self, ua: "UserAgent", key: int, queues: FrameQueues, account: pj.Account,
                 call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.ua = ua
        self.key = key
        self.queues = queues
        self.port: BridgePort | None = None  # leased from ua.ports while the call has audio
        self.audio: pj.AudioMedia | None = None  # the call's side of the bridge, which the port is connected to
        self.gone = False  # DISCONNECTED seen: the UA deletes it on its next turn

    # -- SIP events (UA thread) --------------------------------------------------------------------

    def onCallState(self, prm) -> None:  # noqa: N802 (pjsua2's names)
        info = self.getInfo()
        if info.state == pj.PJSIP_INV_STATE_EARLY:
            self.ua.post(self.key, "_on_ringing", info.lastStatusCode)
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.ua.post(self.key, "_on_confirmed")
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED and not self.gone:
            self.gone = True
            self.ua.post(self.key, "_on_disconnected", info.lastStatusCode, info.lastReason)
            self.ua.retire(self)

    def onCallMediaState(self, prm) -> None:  # noqa: N802
        info = self.getInfo()
        for media in info.media:
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status not in _FLOWING:
                continue
            audio = self.audio = self.getAudioMedia(media.index)
            if self.port is None:
                self.port = self.ua.ports.lease(self.queues)
            # Both ways every time: a re-INVITE may have replaced the stream (connecting twice is harmless).
            audio.startTransmit(self.port)
            self.port.startTransmit(audio)
            self.ua.post(self.key, "_on_media", self._codec(media.index))
            return

    def _codec(self, index: int) -> str:
        try:
            stream = self.getStreamInfo(index)
            return f"{stream.codecName}/{stream.codecClockRate}"
        except pj.Error:
            return "unknown"

    def onDtmfDigit(self, prm) -> None:  # noqa: N802 (RFC 2833 on the media thread; SIP INFO on the UA thread)
        self.ua.post(self.key, "_on_dtmf", prm.digit)

    def onCallTransferStatus(self, prm) -> None:  # noqa: N802
        self.ua.post(self.key, "_on_transfer_status", prm.statusCode, prm.reason, prm.finalNotify)
        prm.cont = not prm.finalNotify

    # -- clean-up (UA thread) ----------------------------------------------------------------------

    def release(self) -> None:
        """Give the bridge port back to the pool; the call object itself goes when the UA lets it go."""
        port, self.port = self.port, None
        audio, self.audio = self.audio, None
        if port is not None:
            self.ua.ports.give_back(port, audio)
