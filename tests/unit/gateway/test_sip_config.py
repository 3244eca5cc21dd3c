"""[sip]: the SIP user agent's settings, from the file, the environment and `parley serve --sip-port`."""

import pytest

from gateway.cli import _load, _parser
from gateway.config import ConfigError, load_config


def test_sip_is_off_by_default_and_on_with_the_flag():
    assert load_config(env={}).sip.port is None
    config = _load(_parser().parse_args(["serve", "--sip-port", "5062"]))
    assert config.sip.port == 5062 and config.sip.transports == "udp" and config.sip.max_calls == 4


def test_a_trunk_from_the_file_and_a_password_from_the_environment(tmp_path):
    path = tmp_path / "parley.toml"
    path.write_text('[sip]\nport = 5060\nbind_address = "0.0.0.0"\npublic_address = "203.0.113.10"\n'
                    'transports = "udp,tcp"\ncodecs = "PCMA,PCMU"\nregistrar = "sip:pbx.example.com"\n'
                    'username = "parley"\nclock_rate = 16000\n')
    sip = load_config(path, {"PARLEY_SIP_PASSWORD": "from-the-env"}).sip
    assert (sip.bind_address, sip.public_address, sip.transports) == ("0.0.0.0", "203.0.113.10", "udp,tcp")
    assert (sip.registrar, sip.username, sip.password, sip.realm) == ("sip:pbx.example.com", "parley", "from-the-env", "*")
    assert sip.codecs == "PCMA,PCMU" and sip.clock_rate == 16000


@pytest.mark.parametrize(("env", "named"), [
    ({"PARLEY_SIP_TRANSPORTS": "sctp"}, "sip.transports (PARLEY_SIP_TRANSPORTS)"),
    ({"PARLEY_SIP_CODECS": " , "}, "sip.codecs (PARLEY_SIP_CODECS)"),
    ({"PARLEY_SIP_REGISTRAR": "pbx.example.com", "PARLEY_SIP_USERNAME": "u"}, "sip.registrar (PARLEY_SIP_REGISTRAR)"),
    ({"PARLEY_SIP_REGISTRAR": "sip:pbx.example.com"}, "sip.registrar needs sip.username"),
    ({"PARLEY_SIP_CLOCK_RATE": "44100"}, "sip.clock_rate (PARLEY_SIP_CLOCK_RATE)"),
    ({"PARLEY_SIP_PORT": "70000"}, "sip.port (PARLEY_SIP_PORT)"),
])
def test_bad_sip_settings_stop_start_up_naming_them(env, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_config(env=env)
