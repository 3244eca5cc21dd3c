"""The SIP thread's wake-up: blank lines to our own UDP SIP port, on the address it can be reached at."""

import asyncio
import socket

from gateway.sip_config import SIPConfig
from sip.ua import UserAgent
from sip.waker import POLL_MS, SLEEP_MS, Waker, own_address


def test_a_wake_up_is_a_keep_alive_datagram_to_our_own_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sip:
        sip.bind(("127.0.0.1", 0))
        sip.settimeout(5)
        waker = Waker(("127.0.0.1", sip.getsockname()[1]))
        waker.wake()
        assert sip.recv(64) == b"\r\n\r\n"  # what PJSIP drops silently (RFC 5626 keep-alive)
        assert waker.poll_ms == SLEEP_MS
        waker.close()
        waker.wake()  # closed: nothing, no error


def test_our_address_is_the_bound_one_or_loopback():
    assert own_address("192.0.2.7:5070", "10.0.0.5") == ("10.0.0.5", 5070)
    assert own_address("203.0.113.9:5071", "") == ("127.0.0.1", 5071)  # all interfaces; Contact shows the public one
    assert own_address("[2001:db8::1]:5072", "::") == ("::1", 5072)
    assert Waker(None).poll_ms == POLL_MS  # SIP over TCP only: nothing to send to, so it polls


async def test_commands_reach_the_sip_thread_over_udp_and_over_tcp_only():
    for transports in ("udp", "tcp"):
        agent = UserAgent(SIPConfig(port=0, bind_address="127.0.0.1", rtp_port=0, transports=transports),
                          lambda call: None)
        await agent.start()
        try:
            for n in range(20):
                assert await asyncio.wrap_future(agent.submit(lambda n=n: n * 2)) == n * 2
        finally:
            await agent.stop()
