"""Run as a script by test_port_pool.py (a crash must fail that test, not kill pytest): a real UserAgent
leases bridge ports one call after another while pjsua2's conference clock calls them, then shuts down.
Prints how many ports were ever made."""

import asyncio
import random
import sys
from dataclasses import dataclass

import pjsua2 as pj

from sip.bridge import FrameQueues
from sip.ua import UserAgent


@dataclass
class Options:
    port: int = 0  # any free port
    bind_address: str = "127.0.0.1"
    public_address: str | None = None
    transports: str = "udp"
    codecs: str = "PCMU"
    rtp_port: int = 0
    rtp_port_range: int = 0
    clock_rate: int = 8000
    frame_ms: int = 20
    max_calls: int = 4
    registrar: str | None = None
    username: str | None = None
    password: str | None = None
    realm: str = "*"
    account: str | None = None
    register_expires_s: int = 300


async def main(calls: int) -> None:
    ua = UserAgent(Options(), lambda call: None, pjsip_log_level=1)
    await ua.start()
    rng = random.Random(7)
    call: dict = {}  # UA thread only, as pjsua2 objects are in the gateway

    def call_starts() -> None:  # what a call's media coming up does: a port, connected both ways
        devices = pj.Endpoint.instance().audDevManager()
        call["peer"] = devices.getPlaybackDevMedia()
        port = call["port"] = ua.ports.lease(FrameQueues(8000))
        port.queues.outbound.extend([b"\x00\x01" * 160] * 3)
        port.startTransmit(call["peer"])
        devices.getCaptureDevMedia().startTransmit(port)

    def call_ends() -> None:
        ua.ports.give_back(call.pop("port"), call.pop("peer"))

    for _ in range(calls):
        await asyncio.wrap_future(ua.submit(call_starts))
        await asyncio.sleep(rng.uniform(0, 0.01))  # the clock thread calls the port meanwhile
        await asyncio.wrap_future(ua.submit(call_ends))
    await ua.stop()
    print(ua.ports.made)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
