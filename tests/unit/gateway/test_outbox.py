"""The doors' WebSocket outbox: in order, never blocking the engine, and a client that stops reading is dropped."""

import asyncio

from gateway.outbox import Outbox


class Socket:
    """Stands in for aiohttp's WebSocketResponse: records what is sent; `reading` False makes sends hang
    as they do when the client's TCP window is full."""

    def __init__(self, reading: bool = True, closes: bool = True) -> None:
        self.sent: list = []
        self.reading = asyncio.Event()
        if reading:
            self.reading.set()
        self.closes = closes
        self.closed_with: tuple | None = None

    async def send_str(self, text: str) -> None:
        await self.reading.wait()
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.reading.wait()
        self.sent.append(data)

    async def close(self, *, code: int = 1000, message: bytes = b"") -> None:
        if not self.closes:
            await asyncio.Event().wait()  # the close frame cannot go out either
        self.closed_with = (code, message)


async def test_messages_go_out_in_order_and_close_flushes_them():
    ws = Socket()
    outbox = Outbox(ws, "test")
    outbox.start()
    for item in ("a", b"\x01", "b"):
        outbox.put(item)
    await outbox.close()
    assert ws.sent == ["a", b"\x01", "b"] and not outbox.overflowed and ws.closed_with is None


async def test_a_client_that_stops_reading_is_dropped_not_buffered():
    ws = Socket(reading=False)
    outbox = Outbox(ws, "test", limit=10)
    outbox.start()
    for i in range(50):  # the engine keeps queuing: put never blocks
        outbox.put(f"frame {i}")
    assert outbox.overflowed
    await outbox.close()
    assert ws.closed_with == (1008, b"client not reading") and ws.sent == []


async def test_a_connection_that_cannot_even_close_is_aborted(monkeypatch):
    monkeypatch.setattr("gateway.outbox.CLOSE_TIMEOUT_S", 0.05)
    aborted = asyncio.Event()
    ws = Socket(reading=False, closes=False)
    outbox = Outbox(ws, "test", abort=aborted.set, limit=3)
    outbox.start()
    for i in range(5):
        outbox.put("x")
    await asyncio.wait_for(outbox.close(), 5)
    assert aborted.is_set()
