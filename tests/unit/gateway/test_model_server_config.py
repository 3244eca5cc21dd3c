"""What `parley models serve` serves follows the configuration; with nothing embedded it says so and exits."""

import subprocess
import sys

import pytest

from gateway.config import ConfigError, load_config
from gateway.model_server import served_parts


REMOTE = {"PARLEY_ASR_PROVIDER": "remote", "PARLEY_ASR_BASE_URL": "http://models:8090/v1",
          "PARLEY_TTS_PROVIDER": "remote", "PARLEY_TTS_BASE_URL": "http://models:8090/v1"}


def test_it_serves_what_is_embedded_and_skips_what_points_elsewhere():
    assert served_parts(load_config(env={})) == ["asr", "llm", "tts"]
    remote_llm = load_config(env={"PARLEY_LLM_BASE_URL": "http://models:8090/v1"})
    assert served_parts(remote_llm) == ["asr", "tts"]
    voices_elsewhere = load_config(env={"PARLEY_TTS_PROVIDER": "remote", "PARLEY_TTS_BASE_URL": "http://m/v1"})
    assert served_parts(voices_elsewhere) == ["asr", "llm"]
    with pytest.raises(ConfigError, match="all point to servers"):
        served_parts(load_config(env={**REMOTE, "PARLEY_LLM_PROVIDER": "openai"}))
    with pytest.raises(ConfigError, match="asr.base_url"):
        load_config(env={"PARLEY_ASR_PROVIDER": "remote"})
    with pytest.raises(ConfigError, match="tts.base_url"):
        load_config(env={"PARLEY_TTS_PROVIDER": "remote"})


def test_the_command_refuses_a_configuration_with_nothing_to_serve(tmp_path):
    env = {"PARLEY_DATA_DIR": str(tmp_path), **REMOTE, "PARLEY_LLM_PROVIDER": "openai", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "gateway.cli", "models", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "serves the embedded models" in done.stderr and "Traceback" not in done.stderr
