"""OPTIONS probes while a worker takes no new calls: a real pjsua2 user agent answers 503 with the reason its
gateway gives (loading, draining), and 200 again once it takes calls: what a SIP load balancer probes for."""

import asyncio

from gateway.sip_config import SIPConfig
from sip.ua import UserAgent
from tests.integration.sip.kamailio import options_status
from tests.integration.sip.sipp import free_udp_port


async def test_options_get_503_with_the_reason_while_refusing_and_200_otherwise():
    reason: list[str | None] = ["Starting Up"]
    port = free_udp_port()
    agent = UserAgent(SIPConfig(port=port, bind_address="127.0.0.1", rtp_port=0), lambda call: None,
                      refusing=lambda: reason[0])
    await agent.start()
    try:
        probe = lambda: asyncio.to_thread(options_status, f"127.0.0.1:{port}")  # noqa: E731
        assert await probe() == "SIP/2.0 503 Starting Up"
        reason[0] = None
        assert await probe() == "SIP/2.0 200 OK"  # pjsua's own answer
        reason[0] = "Shutting Down"
        assert await probe() == "SIP/2.0 503 Shutting Down"
    finally:
        await agent.stop()
