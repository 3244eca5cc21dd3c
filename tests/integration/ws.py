"""Reading a gateway's WebSocket stream in tests."""

import json

import aiohttp


async def next_event(ws: aiohttp.ClientWebSocketResponse, timeout: float = 60) -> dict:
    """The next JSON event, past any audio frames."""
    while True:
        msg = await ws.receive(timeout)
        if msg.type == aiohttp.WSMsgType.TEXT:
            return json.loads(msg.data)
        assert msg.type == aiohttp.WSMsgType.BINARY, msg
