"""`parley serve` as an operator runs it: starts, reports healthy, answers JSON, takes keys, stops cleanly."""

import json
import signal
import sqlite3
import urllib.error
import urllib.request

import pytest

from tests.servers import http_get, start_server, stop_server


def test_healthz_ok_once_ready(server):
    ok = {"status": "ok"}
    assert http_get(server.url + "/healthz") == (200, {**ok, "providers": {"asr": ok, "llm": ok, "tts": ok}})


def test_logs_listening_line_with_bound_port(server):
    port = server.url.rsplit(":", 1)[1]
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    assert any(f"listening on http://127.0.0.1:{port}" in line["event"] for line in lines)


def test_unknown_path_is_a_json_404(server):
    status, body = http_get(server.url + "/v1/nothing-here")
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_error_not_a_500(server):
    req = urllib.request.Request(server.url + "/healthz", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(req, timeout=5)
        raise AssertionError("POST /healthz should be refused")
    except urllib.error.HTTPError as err:
        assert err.code == 405
        assert json.loads(err.read())["error"]["code"] == "invalid_request"


def test_keys_create_while_serving_prints_key_last_and_stores_only_a_hash(server):
    result = server.cli("keys", "create", "--admin", "--name", "ops")
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("pk_") and len(key) > 30
    db = sqlite3.connect(server.data_dir / "parley.db")
    rows = db.execute("SELECT name, admin, key_hash FROM api_keys").fetchall()
    assert ("ops", 1) in [(name, admin) for name, admin, _ in rows]
    dump = "\n".join(db.iterdump())
    assert key not in dump  # the key itself is never stored
    listed = server.cli("keys", "list")
    assert key[:10] in listed.stdout and key not in listed.stdout


def test_client_key_is_not_admin(server):
    result = server.cli("keys", "create", "--name", "app")
    assert result.returncode == 0
    db = sqlite3.connect(server.data_dir / "parley.db")
    assert db.execute("SELECT admin FROM api_keys WHERE name = 'app'").fetchone() == (0,)


def test_a_revoked_key_is_refused_at_once_by_the_running_server(server):
    key = server.cli("keys", "create", "--name", "leaving").stdout.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {key}"}
    with urllib.request.urlopen(urllib.request.Request(server.url + "/v1/conversations", headers=headers)) as resp:
        assert resp.status == 200
    key_id = next(line.split("\t")[0] for line in server.cli("keys", "list").stdout.splitlines()
                  if line.endswith("\tleaving"))
    result = server.cli("keys", "revoke", key_id)
    assert result.returncode == 0 and result.stdout.strip() == f"revoked key {key_id}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(server.url + "/v1/conversations", headers=headers))
    assert refused.value.code == 401
    assert f"{key_id}\t" in server.cli("keys", "list").stdout and "\trevoked\t" in server.cli("keys", "list").stdout
    again = server.cli("keys", "revoke", key_id)
    assert again.returncode != 0 and f"no live key '{key_id}'" in again.stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_shutdown_on_signal(tmp_path, sig):
    srv = start_server(tmp_path)
    assert stop_server(srv, sig) == 0
    log = srv.log()
    assert '"stopped"' in log
    assert "Traceback" not in log


def test_bad_setting_stops_startup_with_its_name(tmp_path):
    from tests.servers import PARLEY
    import os
    import subprocess

    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path), "PARLEY_VAD_THRESHOLD": "loud"}
    result = subprocess.run([*PARLEY, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "vad.threshold (PARLEY_VAD_THRESHOLD)" in result.stderr
    assert "'loud'" in result.stderr
    assert "Traceback" not in result.stderr


def test_port_in_use_is_a_clear_error(server, tmp_path):
    from tests.servers import PARLEY
    import os
    import subprocess

    port = server.url.rsplit(":", 1)[1]
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    result = subprocess.run([*PARLEY, "serve", "--port", port], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "address already in use" in result.stderr.lower()
    assert "Traceback" not in result.stderr
