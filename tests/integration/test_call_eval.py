"""The call-outcome evaluation's regression subset (`parley eval --smoke`) against the real server and models.

A small, fast part of the scripted calls (cases marked `smoke`, all from the tuned
part): typed, and a few spoken as 8 kHz mu-law by voices Parley does not use for its
replies. The full evaluation is `parley eval URL` (README: Call outcomes); the
thresholds here sit below what it measures so that a model or prompt change that
loses calls fails the suite, while one unlucky sample does not.
"""

import aiohttp
import pytest

from gateway.client import GatewayClient
from gateway.evaluation.cases import select
from gateway.evaluation.run import evaluate, format_table, summarise
from tests.integration.test_api import new_key

pytestmark = pytest.mark.slow

TYPED_MIN_PASS = 0.8
SPOKEN_CASES = ("order-words", "transfer-person", "nonumber-where")


@pytest.fixture(scope="module")
def key(server) -> str:
    return new_key(server, "--name", "call-eval")


async def _run(server, key, cases, mode):
    async with aiohttp.ClientSession() as http:
        results = await evaluate(GatewayClient(server.url, key, http), cases, (mode,), concurrency=2,
                                 reply_timeout_s=120)
    failed = {r.case.case_id: v.reasons for r, v in results if not v.passed}
    return results, failed


async def test_typed_calls_get_the_right_outcome(server, key):
    cases = select(smoke=True)
    assert len(cases) >= 10
    results, failed = await _run(server, key, cases, "typed")
    passed = len(results) - len(failed)
    print(format_table(summarise(results)))
    assert passed >= TYPED_MIN_PASS * len(cases), failed
    # What a caller must never hear, whatever else went wrong.
    assert not [r for r, v in results for why in v.reasons if why.startswith(("engine text", "invented"))], failed


async def test_spoken_phone_calls_get_the_right_outcome(server, key):
    cases = select(ids=SPOKEN_CASES)
    results, failed = await _run(server, key, cases, "spoken")
    assert len(results) == len(SPOKEN_CASES)
    assert len(failed) <= 1, failed
