"""/healthz says 503 while models load and 200 once a call can be taken."""

from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import load_config
from gateway.models import Models


async def test_healthz_503_until_models_ready_then_200(tmp_path):
    models = Models()  # passed in: nothing loads it, so the test decides when it is ready
    app = create_app(load_config(env={"PARLEY_DATA_DIR": str(tmp_path)}), models=models)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/healthz")
        assert resp.status == 503
        assert await resp.json() == {"status": "loading"}
        models.ready.set()
        resp = await client.get("/healthz")
        assert resp.status == 200
        assert await resp.json() == {"status": "ok"}


async def test_healthz_reports_a_failed_load(tmp_path):
    models = Models(error="MediaError: Silero VAD model not installed")
    app = create_app(load_config(env={"PARLEY_DATA_DIR": str(tmp_path)}), models=models)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/healthz")
        assert resp.status == 503
        body = await resp.json()
        assert body["status"] == "error" and "Silero" in body["error"]
