"""One real default model per test run, shared by the LLM tests (loading it is the slow part)."""

import pytest
import pytest_asyncio

from agents.providers.llm.llamacpp import DEFAULT_MODEL, LlamaCppLLM


@pytest_asyncio.fixture(scope="session")
async def local_llm():
    """The default packaged model on xllamacpp, loaded and warmed once."""
    llm = LlamaCppLLM(DEFAULT_MODEL)
    await llm.start()
    yield llm
    llm.close()


@pytest.fixture(scope="session")
def http_llm_server():
    """A real OpenAI-compatible server on loopback: llama.cpp's own HTTP server inside xllamacpp,
    serving the default model with an API key. Yields (base_url, api_key)."""
    import secrets

    import xllamacpp

    from agents.providers.llm.packaged import resolve_model

    params = xllamacpp.CommonParams()
    params.model.path = str(resolve_model(DEFAULT_MODEL))
    params.n_ctx = 2048
    params.verbosity = -1
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # a free port; listening_address says which
    key = secrets.token_hex(16)
    params.api_keys = [key]
    server = xllamacpp.Server(params)
    try:
        server.handle_chat_completions({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1})
    except RuntimeError as exc:  # e.g. vosk imported first (see llamacpp._RANDOM_DEVICE_HINT)
        pytest.fail(f"llama.cpp cannot serve in this process: {exc}", pytrace=False)
    yield server.listening_address, key
    del server
