"""What a door sends on its WebSocket: queued without blocking the engine, written by one task, and bounded.

The engine queues audio frames (50 a second) and events from the event loop and never waits on the
network. A client that stops reading (a frozen app, a half-open connection) would make that queue grow
for as long as the call lasts; past `limit` items the client is dropped instead: its socket is closed
(aborted if even the close frame cannot go out), the door's receive loop ends as for any lost
connection, and an API client may resume the session with `last_turn_id`. Audio is paced in real time
(agents/playout.py PacedSink), so a client that reads keeps the queue at a few frames; the default limit is
a minute of audio on the API stream (a message a frame) and half that on Twilio's (a mark after each frame).
"""

import asyncio
import contextlib
from collections.abc import Callable

import structlog
from aiohttp import web

log = structlog.get_logger(__name__)

DEFAULT_LIMIT = 3000
CLOSE_TIMEOUT_S = 2.0
_CLIENT_TOO_SLOW = 1008  # policy violation: it stopped reading what it asked for


class Outbox:
    """One WebSocket's outbound messages (str as text, bytes as binary), sent in order by one writer task.

    `abort` drops the connection at once (the request's transport); used when even the close frame
    cannot be written to a client that does not read.
    """

    def __init__(self, ws: web.WebSocketResponse, name: str, abort: Callable[[], None] | None = None,
                 limit: int = DEFAULT_LIMIT) -> None:
        self.ws = ws
        self.name = name
        self.limit = limit
        self.overflowed = False
        self._abort = abort
        self._queue: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._writer: asyncio.Task | None = None
        self._dropping: asyncio.Task | None = None

    def start(self) -> None:
        """Start the writer (after ws.prepare)."""
        self._writer = asyncio.create_task(self._write(), name=f"{self.name}-writer")

    def put(self, item: str | bytes) -> None:
        """Queue one message; never blocks. Past the limit the client is dropped and nothing more is queued."""
        if self.overflowed:
            return
        if self._queue.qsize() >= self.limit:
            self._overflow()
            return
        self._queue.put_nowait(item)

    async def close(self) -> None:
        """Send everything queued, then stop the writer (the socket stays open for the door to close)."""
        if not self.overflowed:
            self._queue.put_nowait(None)
        tasks = [t for t in (self._writer, self._dropping) if t is not None]
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _write(self) -> None:
        try:
            while (item := await self._queue.get()) is not None:
                if isinstance(item, bytes):
                    await self.ws.send_bytes(item)
                else:
                    await self.ws.send_str(item)
        except ConnectionResetError:  # the client went away mid-send: nothing more can reach it
            log.info("stream_client_gone", door=self.name)

    def _overflow(self) -> None:
        self.overflowed = True
        log.warning("stream_client_not_reading", door=self.name, queued=self._queue.qsize())
        while not self._queue.empty():  # what it would never read
            self._queue.get_nowait()
        if self._writer is not None:
            self._writer.cancel()  # it is stuck in a send the client does not read
        self._dropping = asyncio.ensure_future(self._drop())

    async def _drop(self) -> None:
        with contextlib.suppress(Exception):
            if self._writer is not None:
                await asyncio.gather(self._writer, return_exceptions=True)
            try:
                await asyncio.wait_for(self.ws.close(code=_CLIENT_TOO_SLOW, message=b"client not reading"),
                                       CLOSE_TIMEOUT_S)
            except (asyncio.TimeoutError, ConnectionResetError):
                if self._abort is not None:
                    self._abort()
