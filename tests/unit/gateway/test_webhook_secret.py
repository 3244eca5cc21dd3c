"""The webhook secret: made once into the data dir (0600), stable, shown by `parley webhook-secret`; config wins."""

import os
import stat
import subprocess
import sys

import pytest

from gateway.config import ConfigError, load_config
from gateway.webhooks import secret_path, webhook_secret


def test_a_secret_is_made_once_private_and_kept(tmp_path):
    config = load_config(env={"PARLEY_DATA_DIR": str(tmp_path / "data")})
    first = webhook_secret(config)
    assert first.startswith("whsec_") and len(first) >= 40
    path = secret_path(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert webhook_secret(config) == first  # the same on every start
    assert [p.name for p in path.parent.iterdir()] == ["webhook_secret"]  # no temporary file left behind


def test_a_configured_secret_wins_and_must_not_be_short(tmp_path):
    env = {"PARLEY_DATA_DIR": str(tmp_path), "PARLEY_TOOLS_WEBHOOK_SECRET": "a-long-enough-shared-secret"}
    assert webhook_secret(load_config(env=env)) == "a-long-enough-shared-secret"
    assert not (tmp_path / "webhook_secret").exists()
    with pytest.raises(ConfigError, match="PARLEY_TOOLS_WEBHOOK_SECRET"):
        webhook_secret(load_config(env={**env, "PARLEY_TOOLS_WEBHOOK_SECRET": "short"}))


def test_the_command_line_prints_the_secret_the_gateway_signs_with(tmp_path):
    env = {**os.environ, "PARLEY_DATA_DIR": str(tmp_path)}
    env.pop("PARLEY_TOOLS_WEBHOOK_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "webhook-secret"], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.strip().splitlines()[-1]
    assert printed == webhook_secret(load_config(env={"PARLEY_DATA_DIR": str(tmp_path)}))
