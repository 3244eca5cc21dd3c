"""Noise suppression (DTLN) over HTTP against a real `parley serve`: the `noise_suppression` field on a session
and on a persona, the 400, and a noisy caller heard through it."""

import aiohttp
import numpy as np
import pytest

from gateway.client import GatewayClient, converse
from tests.integration.languages import words
from tests.integration.test_admin_api import create_persona
from tests.integration.test_api import SEED_BODY, request
from tests.integration.test_api import admin, client_key  # noqa: F401  (fixtures: a key of each kind)
from tests.unit.agents.asr.clips import at_rate, piper


def test_a_session_keeps_and_shows_noise_suppression(server, client_key):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "noise_suppression": True})
    assert status == 201 and body["noise_suppression"] is True, body
    status, got = request(server, "GET", f"/v1/conversations/{body['session_id']}", client_key)
    assert status == 200 and got["noise_suppression"] is True
    status, plain = request(server, "POST", "/v1/conversations/create", client_key, SEED_BODY)
    assert status == 201 and "noise_suppression" not in plain


@pytest.mark.parametrize("value", ["yes", 1, None, {}])
def test_noise_suppression_must_be_true_or_false(server, client_key, value):
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {**SEED_BODY, "noise_suppression": value})
    assert status == 400, body
    assert body["error"]["param"] == "noise_suppression" and "true or false" in body["error"]["message"]


def test_a_persona_noise_suppression_reaches_its_sessions(server, admin, client_key):
    persona = create_persona(server, admin, noise_suppression=True)
    assert persona["noise_suppression"] is True
    status, body = request(server, "POST", "/v1/conversations/create", client_key,
                           {"persona_id": persona["persona_id"]})
    assert status == 201 and body["noise_suppression"] is True, body
    status, plain = request(server, "GET", f"/v1/personas/{create_persona(server, admin)['persona_id']}", admin)
    assert status == 200 and plain["noise_suppression"] is False


def brown_noise(samples: int, rms: float) -> np.ndarray:
    spectrum = np.fft.rfft(np.random.default_rng(3).standard_normal(samples))
    f = np.fft.rfftfreq(samples)
    f[0] = f[1]
    x = np.fft.irfft(spectrum / f, n=samples)
    return x / x.std() * rms


async def test_a_noisy_caller_is_heard_through_noise_suppression(server, client_key):
    speech = np.frombuffer(at_rate(piper("What is the status of order one two three four?"), 8000), dtype=np.int16)
    padded = np.concatenate((speech, np.zeros(8000, dtype=np.int16))).astype(np.float64)
    voiced = speech[np.abs(speech) > 300].astype(np.float64)
    noisy = padded + brown_noise(padded.size, float(np.sqrt(np.mean(voiced ** 2))) / 10 ** (10 / 20))  # 10 dB SNR
    wav = np.clip(np.rint(noisy), -32768, 32767).astype(np.int16).tobytes()
    async with aiohttp.ClientSession() as http:
        client = GatewayClient(server.url, client_key, http)
        created = await client.create(**{**SEED_BODY, "noise_suppression": True})
        result = await converse(client, created["session_id"], wav=wav, sample_rate=8000, encoding="mulaw",
                                on_event=lambda e: None, reply_timeout_s=120)
    user = next(e for e in result.events if e["type"] == "transcript" and e["role"] == "user" and e["is_final"])
    heard = set(words(user["text"]))
    assert "status" in heard and heard & {"order", "1234"}, user  # tiny.en once heard "status of World 1234"
    assert "noise_suppression_unavailable" not in server.log()
