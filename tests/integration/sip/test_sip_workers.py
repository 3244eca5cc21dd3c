"""SIP past one process's 4 calls: six `parley serve` workers behind Debian's Kamailio with the project's own
configuration (deploy/kamailio), on one PostgreSQL and one `parley models serve` (the recogniser and the
voices, loaded once). Twenty-three calls at once are all answered and heard; a worker drained mid-test finishes
its calls and gets no new ones; a worker killed is probed out and the calls go to the others.

The workers' LLM is scripted (tests/integration/sip/scripted_llm.py: "I heard you."): what is tested is that
each caller was answered, greeted and understood, on whichever worker took the call. The workers cross audio
to Python in 60 ms bridge frames (sip.frame_ms, the cheapest setting; the other SIP tests run the default 20)."""

import collections
import concurrent.futures
import datetime
import shutil
import signal
import time

import pytest

from tests.integration.sip.conftest import QUESTION, pcm_wav, sipp_dir
from tests.integration.sip.gateway import SipGateway, call_ids, start_sip_gateway
from tests.integration.sip.kamailio import Kamailio, options_status, start_kamailio
from tests.integration.sip.softphone import call
from tests.integration.sip.sipp import SippRun, run_sipp
from tests.integration.sip.test_sip_calls import word_errors, words
from tests.postgres import start_postgres
from tests.servers import start_models_server, stop_server

pytestmark = pytest.mark.slow

if shutil.which("kamailio") is None:
    pytest.skip("kamailio is missing: install Debian's kamailio (scripts/setup.sh test does)", allow_module_level=True)

WORKERS = 6  # 4 calls each (the pjsua2 wheel's PJSUA_MAX_CALLS): 24 places
MODELS_KEY = "workers-models-key"
GREETING = "Hello, this is Parley."
ANSWER = "I heard you."


@pytest.fixture(scope="module")
def farm(tmp_path_factory, scripted_llm):
    """(Kamailio, the workers): all real processes on loopback."""
    tmp = tmp_path_factory.mktemp("sip-workers")
    llm = {"PARLEY_LLM_PROVIDER": "openai", "PARLEY_LLM_BASE_URL": scripted_llm.base_url,
           "PARLEY_LLM_MODEL": "scripted"}
    database = start_postgres()
    models = None
    workers: list[SipGateway] = []
    try:
        models = start_models_server(tmp / "models", MODELS_KEY, {**llm, "PARLEY_ASR_LANGUAGES": "en"})
        base = models.url + "/v1"
        env = {"PARLEY_DATABASE_URL": database.create_database(), **llm, "PARLEY_SERVER_DRAIN_TIMEOUT_S": "120",
               "PARLEY_ASR_PROVIDER": "remote", "PARLEY_ASR_BASE_URL": base, "PARLEY_ASR_API_KEY": MODELS_KEY,
               "PARLEY_TTS_PROVIDER": "remote", "PARLEY_TTS_BASE_URL": base, "PARLEY_TTS_API_KEY": MODELS_KEY,
               "PARLEY_ASR_LANGUAGES": "en", "PARLEY_SIP_FRAME_MS": "60"}
        for n in range(WORKERS):  # one after the other: each brings the configuration's personas into storage
            workers.append(start_sip_gateway(tmp / f"worker-{n}", env, rtp_port=20000 + 400 * n))
        kamailio = start_kamailio(tmp, [worker.target for worker in workers])
        yield kamailio, workers
        kamailio.stop()
    finally:
        for worker in workers:
            stop_server(worker.server)
        if models is not None:
            stop_server(models)
        database.stop()


def place(kamailio: Kamailio, tmp, calls: int, pause_ms: int) -> SippRun:
    """`calls` sipp calls through Kamailio, two a second, each asking QUESTION after the greeting, then
    listening `pause_ms` and hanging up. (Callers who all spoke in the same second would queue their words
    on the one 2-core machine that runs the recogniser, the six workers, Kamailio and sipp.)"""
    return run_sipp("through_proxy", kamailio.target, sipp_dir(tmp), calls=calls, pause_ms=pause_ms, timeout_s=240,
                    rate=2)


def assert_greeted_and_heard(session: dict) -> None:
    greeting, question = session["history"][:2]
    assert greeting["role"] == "assistant" and greeting["text"] == GREETING, session["history"]
    assert question["role"] == "user" and word_errors(words(question["text"]), words(QUESTION)) <= 1, question
    assert session["status"] == "ended" and session["end_reason"] == "hangup", session


def at(stamp: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(stamp)


def test_twenty_three_calls_at_once_over_six_workers_are_all_answered_and_heard(farm, tmp_path, whisper):
    kamailio, workers = farm
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        sipp = pool.submit(place, kamailio, tmp_path / "sipp", 22, 25000)
        phone = pool.submit(call, f"sip:1000@{kamailio.target}", pcm_wav(tmp_path / "question.wav", QUESTION, 8000),
                            tmp_path, seconds=28)
        run, heard = sipp.result(), phone.result()
    assert run.ok, run.output[-3000:]
    assert heard.connected, heard
    ids = [*call_ids(run.messages), heard.call_id]
    assert len(set(ids)) == 23
    sessions = [workers[0].ended_session_of(call_id, timeout_s=60) for call_id in ids]  # one database: any worker
    for session in sessions:
        assert_greeted_and_heard(session)
    # all 23 were up together: the last to start started before the first to end ended
    assert max(at(s["created_at"]) for s in sessions) < min(at(s["ended_at"]) for s in sessions)
    # spread over every worker, none past its 4
    taken = collections.Counter(kamailio.destinations()[call_id][-1] for call_id in ids)
    assert set(taken) == {w.target for w in workers} and max(taken.values()) <= 4, taken
    # what the softphone's earpiece got, transcribed: the greeting, then the answer to its question
    said = words(whisper(heard.heard, heard.rate))
    assert said.startswith(words(GREETING)) and words(ANSWER) in said, said
    phone_session = sessions[-1]
    assert [turn["text"] for turn in phone_session["history"][::2]][:2] == [GREETING, ANSWER], phone_session


def test_a_drained_worker_finishes_its_calls_and_gets_no_new_ones(farm, tmp_path):
    kamailio, workers = farm
    before = set(kamailio.destinations())
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(place, kamailio, tmp_path / "first", 8, 20000)
        deadline = time.monotonic() + 120
        while True:  # a call of this batch is live on some worker: that one drains
            live = [(call_id, sent[-1]) for call_id, sent in kamailio.destinations().items() if call_id not in before]
            if live and workers[0].session_of(live[0][0], timeout_s=60)["status"] == "active":
                break
            assert time.monotonic() < deadline, kamailio.log()[-3000:]
            time.sleep(0.2)
        draining = next(w for w in workers if w.target == live[0][1])
        draining.server.process.send_signal(signal.SIGTERM)
        kamailio.wait_for(f"worker sip:{draining.target} down")  # its next probe got 503
        assert options_status(draining.target) == "SIP/2.0 503 Shutting Down"
        second = place(kamailio, tmp_path / "second", 6, 3000)  # meanwhile
        assert second.ok, second.output[-3000:]
        assert not any(draining.target in kamailio.destinations()[c] for c in call_ids(second.messages))
        run = first.result()
    assert run.ok, run.output[-3000:]
    ids = call_ids(run.messages)
    on_draining = [c for c in ids if kamailio.destinations()[c][-1] == draining.target]
    assert on_draining
    other = next(w for w in workers if w is not draining)  # the drained one's API goes with it
    for call_id in ids:  # the drained worker's calls went on to their end like the others
        assert_greeted_and_heard(other.ended_session_of(call_id, timeout_s=60))
    assert draining.server.process.wait(60) == 0  # its last call over, it stopped on its own
    assert '"event": "drained"' in draining.server.log()
    workers.remove(draining)


def test_a_killed_worker_is_probed_out_and_calls_go_to_the_others(farm, tmp_path):
    kamailio, workers = farm
    dead = workers.pop()
    dead.server.process.kill()
    killed = time.monotonic()
    kamailio.wait_for(f"worker sip:{dead.target} down")
    print(f"killed worker probed out after {time.monotonic() - killed:.1f} s")
    run = place(kamailio, tmp_path, 8, 3000)
    assert run.ok, run.output[-3000:]
    ids = call_ids(run.messages)
    assert not any(dead.target in kamailio.destinations()[c] for c in ids)  # never tried
    for call_id in ids:
        assert_greeted_and_heard(workers[0].ended_session_of(call_id, timeout_s=60))
