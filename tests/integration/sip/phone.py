"""A softphone for tests: a pjsua2 user agent of its own (run as a separate process) that calls the gateway,
says a WAV after the greeting, records everything it hears, and hangs up.

    python phone.py sip:1000@127.0.0.1:5060 --say question.wav --record heard.wav
        [--say-after-s 3] [--seconds 15] [--junk-rtp]

Prints one JSON line at the end: {"connected", "codec", "status_code", "hung_up_by", "junk_sent", "digits", "call_id"}
(digits: the key presses the gateway sent, RFC 2833 or SIP INFO).
`--junk-rtp` also sends RTP-shaped noise to the gateway's RTP port from another socket (a stray or
spoofed sender) while the call runs: the call must carry on as if nothing came.
"""

import argparse
import json
import os
import socket
import sys
import time
import wave

import pjsua2 as pj


class Phone(pj.Call):
    def __init__(self, account: pj.Account) -> None:
        super().__init__(account)
        self.audio: pj.AudioMedia | None = None
        self.connected_at: float | None = None
        self.disconnected = False
        self.status_code = 0
        self.codec = ""
        self.digits = ""
        self.call_id = ""

    def onDtmfDigit(self, prm) -> None:  # noqa: N802
        self.digits += prm.digit

    def onCallState(self, prm) -> None:  # noqa: N802
        info = self.getInfo()
        self.call_id = info.callIdString
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED and self.connected_at is None:
            self.connected_at = time.monotonic()
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.disconnected = True
            self.status_code = info.lastStatusCode

    def onCallMediaState(self, prm) -> None:  # noqa: N802
        info = self.getInfo()  # kept: its media list dies with it
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.audio = self.getAudioMedia(media.index)
                stream = self.getStreamInfo(media.index)
                self.codec = f"{stream.codecName}/{stream.codecClockRate}"


def junk_rtp(target: tuple[str, int], count: int) -> int:
    """RTP-looking packets (version 2, PCMU, random payload) from a socket the SDP never mentioned."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        for seq in range(count):
            header = bytes([0x80, 0x00]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big") + b"\x0b\xad\xf0\x0d"
            s.sendto(header + os.urandom(160), target)
            time.sleep(0.005)
    return count


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("uri")
    parser.add_argument("--say", required=True, help="16-bit PCM WAV at the codec's rate (8000 or 16000 Hz)")
    parser.add_argument("--record", required=True)
    parser.add_argument("--say-after-s", type=float, default=3.0)
    parser.add_argument("--seconds", type=float, default=15.0, help="hang up this long after connecting")
    parser.add_argument("--codec", default="PCMU", help="the only codec offered")
    parser.add_argument("--junk-rtp", action="store_true")
    args = parser.parse_args()

    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.logConfig.level = config.logConfig.consoleLevel = 1
    config.medConfig.noVad = True
    with wave.open(args.say) as wav:  # the bridge runs at the WAV's rate: no resampling of the caller's words
        config.medConfig.clockRate = config.medConfig.sndClockRate = wav.getframerate()
    endpoint.libInit(config)
    endpoint.audDevManager().setNullDev()
    for codec in endpoint.codecEnum2():
        endpoint.codecSetPriority(codec.codecId, 255 if codec.codecId.split("/")[0] == args.codec else 0)
    transport = pj.TransportConfig()
    transport.port = 0
    transport.boundAddress = "127.0.0.1"
    endpoint.transportCreate(pj.PJSIP_TRANSPORT_UDP, transport)
    endpoint.libStart()
    account = pj.Account()
    account_config = pj.AccountConfig()
    account_config.idUri = "sip:phone@127.0.0.1"
    account_config.mediaConfig.transportConfig.boundAddress = "127.0.0.1"
    account_config.mediaConfig.transportConfig.port = 0
    account.create(account_config)

    call = Phone(account)
    call.makeCall(args.uri, pj.CallOpParam(True))
    player = pj.AudioMediaPlayer()
    player.createPlayer(args.say, pj.PJMEDIA_FILE_NO_LOOP)
    recorder = pj.AudioMediaRecorder()
    recorder.createRecorder(args.record)
    recording = saying = False
    junk_sent = 0
    hung_up_by = "gateway"
    deadline = time.monotonic() + args.seconds + 30
    while not call.disconnected and time.monotonic() < deadline:
        endpoint.libHandleEvents(10)
        if call.audio is None or call.connected_at is None:
            continue
        since = time.monotonic() - call.connected_at
        if not recording:
            call.audio.startTransmit(recorder)
            recording = True
        if not saying and since >= args.say_after_s:
            player.startTransmit(call.audio)
            saying = True
            if args.junk_rtp:
                address = call.getStreamInfo(0).remoteRtpAddress
                host, port = address.rsplit(":", 1)
                junk_sent = junk_rtp((host, int(port)), 200)
        if since >= args.seconds:
            hung_up_by = "phone"
            call.hangup(pj.CallOpParam(True))
            end = time.monotonic() + 5
            while not call.disconnected and time.monotonic() < end:
                endpoint.libHandleEvents(10)
            break
    print(json.dumps({"connected": call.connected_at is not None, "codec": call.codec,
                      "status_code": call.status_code, "hung_up_by": hung_up_by, "junk_sent": junk_sent,
                      "digits": call.digits, "call_id": call.call_id}))
    sys.stdout.flush()
    del player, recorder, call
    account.shutdown()
    del account
    endpoint.libDestroy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
