"""The admin's live view (SPEC §7): the calls running on this node (gateway/monitor.py) and their events
as they happen: transcripts, tool calls, turns, interruptions. Admins read a snapshot
(`GET /v1/live`) or follow the feed (`GET /v1/live/events`, server-sent events: a `snapshot`
first, then `call_started`, `event` and `call_ended` messages).
"""

import asyncio
import json

from aiohttp import web

from gateway.app_keys import MONITOR, STORAGE
from gateway.auth import authenticate, authenticate_admin
from gateway.errors import error_response

HEARTBEAT_S = 15.0


async def live_calls(request: web.Request) -> web.Response:
    await authenticate_admin(request, request.app[STORAGE], "watching live calls")
    return web.json_response({"calls": request.app[MONITOR].snapshot()})


async def live_events(request: web.Request) -> web.StreamResponse:
    """Server-sent events. Browsers' EventSource cannot send headers: `?token=<admin key>` is accepted too."""
    key = await authenticate(request, request.app[STORAGE], allow_query_token=True)
    if not key.admin:
        return error_response(403, "forbidden", "watching live calls needs an admin key")
    monitor = request.app[MONITOR]
    queue = monitor.subscribe()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
    try:
        await response.prepare(request)
        await response.write(_sse({"type": "snapshot", "calls": monitor.snapshot()}))
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if message is None:
                break
            await response.write(_sse(message))
    except ConnectionResetError:  # the browser went away
        pass
    finally:
        monitor.unsubscribe(queue)
    return response


def _sse(message: dict) -> bytes:
    return f"data: {json.dumps(message)}\n\n".encode()


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/live", live_calls)
    app.router.add_get("/v1/live/events", live_events)
