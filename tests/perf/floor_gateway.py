"""The floor for `parley bench capacity --door twilio --silent`: a bare aiohttp server that does only what any
gateway must for each Twilio media message (JSON, base64, mu-law, 8 -> 16 kHz, the VAD) and nothing else: no
session, no engine, no storage. What Parley spends above this per call is its own.

    .venv/bin/python tests/perf/floor_gateway.py 8099 &
    .venv/bin/parley bench capacity http://127.0.0.1:8099 --door twilio --calls 200 --rate 20 --hold 20 \\
        --silent --admin-key any --twilio-auth-token any
"""

import base64
import json
import resource
import sys
from pathlib import Path

from aiohttp import WSMsgType, web

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from media.audioop_lib import audioop  # noqa: E402
from media.resample import Resampler  # noqa: E402
from media.vad.webrtc import WebRtcVAD  # noqa: E402


async def voice(request: web.Request) -> web.Response:
    await request.post()
    stream = f"ws://{request.host}/twilio/stream"
    return web.Response(text=f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="{stream}">'
                        '<Parameter name="session_id" value="floor"/></Stream></Connect></Response>',
                        content_type="text/xml")


async def stream(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    vad, upsample = WebRtcVAD(16000, 0.5), Resampler(8000, 16000)
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            break
        message = json.loads(msg.data)
        if message.get("event") == "media":
            vad.prob(upsample.process(audioop.ulaw2lin(base64.b64decode(message["media"]["payload"]), 2)))
    return ws


async def metrics(request: web.Request) -> web.Response:
    """The two process figures the bench reads (any key)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return web.Response(text=f"process_cpu_seconds_total {usage.ru_utime + usage.ru_stime}\n"
                             f"process_resident_memory_bytes {usage.ru_maxrss * 1024}\n")


def main() -> None:
    app = web.Application()
    app.router.add_post("/twilio/voice", voice)
    app.router.add_get("/twilio/stream", stream)
    app.router.add_get("/metrics", metrics)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8099, print=None)


if __name__ == "__main__":
    main()
