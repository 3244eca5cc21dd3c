"""Configuration: defaults, TOML, PARLEY_* overrides, and errors that name the bad setting."""

from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config


def test_defaults_need_no_file_and_no_environment():
    config = load_config(env={})
    assert config.server.port == 8080
    assert config.server.host == "127.0.0.1"
    assert config.vad.threshold == 0.5
    assert config.sip.port is None
    assert config.twilio.validate_signatures is True
    assert config.resolved_public_url() == "http://127.0.0.1:8080"
    assert config.resolved_database_url.endswith("/parley/parley.db")


def test_toml_file_then_environment_wins(tmp_path):
    path = tmp_path / "parley.toml"
    path.write_text('data_dir = "/srv/parley"\n[server]\nport = 9000\nhost = "0.0.0.0"\n[vad]\nthreshold = 0.7\n')
    config = load_config(path, env={"PARLEY_SERVER_PORT": "9100"})
    assert config.server.port == 9100
    assert config.server.host == "0.0.0.0"
    assert config.vad.threshold == 0.7
    assert config.data_dir == Path("/srv/parley")
    assert config.resolved_database_url == "sqlite:////srv/parley/parley.db"
    # a wildcard bind is not an address anyone can call back
    assert config.resolved_public_url(9100) == "http://127.0.0.1:9100"


def test_config_file_from_parley_config_variable(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[log]\nformat = 'json'\n")
    assert load_config(env={"PARLEY_CONFIG": str(path)}).log.format == "json"


def test_spec_variables(tmp_path):
    config = load_config(env={
        "PARLEY_DATA_DIR": str(tmp_path),
        "PARLEY_PUBLIC_URL": "https://gw.example.com/",
        "PARLEY_DATABASE_URL": "sqlite:////var/lib/parley.db",
        "PARLEY_TWILIO_AUTH_TOKEN": "secret",
        "PARLEY_TWILIO_VALIDATE_SIGNATURES": "false",
        "PARLEY_SIP_PORT": "5070",
    })
    assert config.resolved_data_dir == tmp_path
    assert config.resolved_public_url(1234) == "https://gw.example.com"
    assert config.resolved_database_url == "sqlite:////var/lib/parley.db"
    assert config.twilio.auth_token == "secret"
    assert config.twilio.validate_signatures is False
    assert config.sip.port == 5070


@pytest.mark.parametrize(
    ("env", "named", "value"),
    [
        ({"PARLEY_SERVER_PORT": "eighty"}, "server.port (PARLEY_SERVER_PORT)", "'eighty'"),
        ({"PARLEY_SERVER_PORT": "70000"}, "server.port (PARLEY_SERVER_PORT)", "'70000'"),
        ({"PARLEY_VAD_THRESHOLD": "1.5"}, "vad.threshold (PARLEY_VAD_THRESHOLD)", "'1.5'"),
        ({"PARLEY_VAD_BACKEND": "magic"}, "vad.backend (PARLEY_VAD_BACKEND)", "'magic'"),
        ({"PARLEY_LOG_FORMAT": "xml"}, "log.format (PARLEY_LOG_FORMAT)", "'xml'"),
        ({"PARLEY_TWILIO_VALIDATE_SIGNATURES": "maybe"}, "twilio.validate_signatures", "'maybe'"),
        ({"PARLEY_SIP_PORT": "0"}, "sip.port (PARLEY_SIP_PORT)", "'0'"),
    ],
)
def test_bad_environment_value_names_setting_variable_and_value(env, named, value):
    with pytest.raises(ConfigError) as err:
        load_config(env=env)
    assert named in str(err.value)
    assert value in str(err.value)


def test_bad_toml_value_and_unknown_keys(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[server]\nport = 'x'\n")
    with pytest.raises(ConfigError, match=r"server\.port"):
        load_config(path, env={})
    path.write_text("[server]\nprot = 9000\n")
    with pytest.raises(ConfigError, match=r"unknown setting server\.prot"):
        load_config(path, env={})
    path.write_text("[nosuch]\na = 1\n")
    with pytest.raises(ConfigError, match="unknown setting nosuch"):
        load_config(path, env={})
    path.write_text("server = 3\n")
    with pytest.raises(ConfigError, match=r"\[server\] table"):
        load_config(path, env={})


def test_broken_or_missing_file(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[server\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", env={})


def test_toml_types_are_checked_not_coerced(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[twilio]\nvalidate_signatures = 'yes please'\n")
    with pytest.raises(ConfigError, match="true or false"):
        load_config(path, env={})
    path.write_text("[server]\nport = true\n")
    with pytest.raises(ConfigError, match="an integer"):
        load_config(path, env={})


def test_readme_documents_every_setting():
    from gateway.config import known_env_names

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = sorted(name for name in known_env_names() - {"PARLEY_CONFIG"} if f"`{name}`" not in readme)
    assert not missing, f"settings missing from README.md: {missing}"
