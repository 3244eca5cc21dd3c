"""A gateway in-process on loopback with a scripted engine, a persona routed to a number, and the stand-in
for Twilio's REST API: what the Twilio door does with a call, fast and the same every run.

The engine is tests/fakes (loud audio is speech, transcripts and replies are scripted);
the same door with the real models is in tests/integration/twilio/.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from gateway.app import create_app
from gateway.app_keys import STORAGE
from gateway.config import load_config
from gateway.models import Models
from gateway.storage import PersonaRecord, RouteRecord
from tests.fakes.engine import FakeASR, FakeLLM, make_engine
from tests.twilio_phone import TwilioPhone

NUMBER = "+15550002222"


@dataclass
class Gateway:
    url: str
    app: object
    http: aiohttp.ClientSession
    asr: FakeASR
    llm: FakeLLM

    def phone(self, **options) -> TwilioPhone:
        return TwilioPhone(self.http, self.url, NUMBER, **options)

    @property
    def storage(self):
        return self.app[STORAGE]


@pytest.fixture
def persona() -> dict:
    """The routed persona's fields; a test changes them before asking for `gateway`."""
    return {"voice_id": "fake_voice", "system_prompt": "Be brief.", "language": "en", "tools": []}


@pytest.fixture
async def gateway(tmp_path, twilio_api, persona):
    asr, llm = FakeASR(), FakeLLM()
    engine = make_engine(asr=asr, llm=llm, idle_timeout_s=0)
    models = Models(engine=engine, voices={v.voice_id: v for v in engine.tts.voices()},
                    languages=frozenset({"en"}), registry=engine.tools.registry)
    models.ready.set()
    config = load_config(env={"PARLEY_DATA_DIR": str(tmp_path), **twilio_api.env()})
    server = TestServer(create_app(config, models=models), host="127.0.0.1")
    await server.start_server()
    now = datetime.now(UTC)
    storage = server.app[STORAGE]
    await storage.add_persona(PersonaRecord("per_test", "Test line", persona, now, now))
    await storage.add_route(RouteRecord(NUMBER, "per_test", now))
    async with aiohttp.ClientSession() as http:
        yield Gateway(str(server.make_url("")).rstrip("/"), server.app, http, asr, llm)
    await server.close()
