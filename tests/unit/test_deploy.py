"""deploy/ checked by the validators that run on these machines (there is no Docker engine here): hadolint for
the Dockerfile, yamllint for every YAML file, kubernetes-validate for the manifests, the Compose specification's
JSON schema for the compose file, systemd-analyze for the unit. Each validator is shown failing a broken file
first, so a pass means something."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
MANIFESTS = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_dockerfile_passes_hadolint_and_installs_with_the_readmes_own_script(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get install -y curl\nUSER root\n")
    assert run(BIN / "hadolint", bad).returncode != 0
    result = run(BIN / "hadolint", DEPLOY / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "RUN scripts/setup.sh runtime" in dockerfile  # what `./run serve` runs first (the README's command)
    assert '"$root/scripts/setup.sh" runtime' in (ROOT / "run").read_text()
    assert "HEALTHCHECK" in dockerfile and "USER 10001" in dockerfile


def test_the_kamailio_configuration_and_image_check_out(tmp_path):
    # Debian's kamailio reads the configuration as it would start (modules loaded, every route parsed); a call
    # through it to a real gateway: tests/integration/sip/test_sip_dispatcher.py.
    config = DEPLOY / "kamailio" / "kamailio.cfg"
    workers = f'DISPATCHER_LIST="{DEPLOY / "kamailio" / "dispatcher.list"}"'
    bad = tmp_path / "kamailio.cfg"
    bad.write_text(config.read_text().replace("ds_select_dst(", "ds_select_dest("))
    assert run("kamailio", "-c", "-f", bad, "-A", workers).returncode != 0
    result = run("kamailio", "-c", "-f", config, "-A", workers)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(BIN / "hadolint", DEPLOY / "kamailio" / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_yaml_file_passes_yamllint(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\na: 2\n")  # a duplicated key
    assert run(BIN / "yamllint", "-c", DEPLOY / ".yamllint", bad).returncode != 0
    result = run(BIN / "yamllint", "-s", "-c", DEPLOY / ".yamllint", DEPLOY)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_kubernetes_manifests_are_valid_resources(tmp_path):
    assert {m.name for m in MANIFESTS} >= {"deployment.yaml", "service.yaml", "configmap.yaml", "secret.yaml"}
    bad = tmp_path / "deployment.yaml"
    bad.write_text("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: two\n")
    assert run(BIN / "kubernetes-validate", bad).returncode != 0
    result = run(BIN / "kubernetes-validate", "--strict", *MANIFESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deployment_drains_and_is_ready_only_once_models_are_loaded():
    import yaml

    deployment = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"  # 503 while models load
    assert container["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
    config = yaml.safe_load((DEPLOY / "kubernetes" / "configmap.yaml").read_text())["data"]
    drain_s, shutdown_s = float(config["PARLEY_SERVER_DRAIN_TIMEOUT_S"]), float(config["PARLEY_SERVER_SHUTDOWN_TIMEOUT_S"])
    assert drain_s > 0  # SIGTERM: no new calls, the live ones finish
    assert pod["terminationGracePeriodSeconds"] > 10 + drain_s + shutdown_s  # preStop, drain, shutdown


def test_the_gateways_use_the_shared_model_server():
    import yaml

    models, service = yaml.safe_load_all((DEPLOY / "kubernetes" / "models.yaml").read_text())
    [container] = models["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["models", "serve"] and container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    port = service["spec"]["ports"][0]["port"]
    config = yaml.safe_load((DEPLOY / "kubernetes" / "configmap.yaml").read_text())["data"]
    url = f"http://{service['metadata']['name']}:{port}/v1"
    assert config["PARLEY_ASR_BASE_URL"] == config["PARLEY_TTS_BASE_URL"] == config["PARLEY_LLM_BASE_URL"] == url
    secret = yaml.safe_load((DEPLOY / "kubernetes" / "secret.yaml").read_text())["stringData"]
    assert len({secret[f"PARLEY_{part}_API_KEY"] for part in ("MODELS_SERVER", "ASR", "TTS", "LLM")}) == 1
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["models"]["command"] == ["models", "serve"]
    environment = compose["x-gateway"]["environment"]
    assert environment["PARLEY_ASR_BASE_URL"] == environment["PARLEY_LLM_BASE_URL"] == "http://models:8090/v1"
    # the packaged model over HTTP with the worker's own handling of it (tool policy, notes), as in Kubernetes
    assert "PARLEY_LLM_PROVIDER" not in environment and "PARLEY_LLM_PROVIDER" not in config


def test_the_compose_file_follows_the_compose_specification(tmp_path):
    bad = tmp_path / "compose.yaml"
    bad.write_text("services:\n  web:\n    ports: 8080\n")
    assert run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", bad).returncode != 0
    result = run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", DEPLOY / "compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_systemd_unit_verifies_cleanly(tmp_path):
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nExecStart=/bin/true\nRestartt=always\n")
    assert "Unknown key" in run("systemd-analyze", "verify", bad).stderr
    # The unit runs the gateway from /opt/parley; here, from this clone's own .venv.
    units = (("parley.service", "parley.service"), ("parley-models.service", "parley-models.service"),
             ("parley-sip@.service", "parley-sip@3.service"))  # a template is verified as one of its instances
    for name, instance in units:
        unit = tmp_path / instance
        unit.write_text((DEPLOY / name).read_text().replace("/opt/parley/.venv/bin/parley", str(BIN / "parley")))
        result = run("systemd-analyze", "verify", unit)
        assert result.returncode == 0 and result.stderr == "", (name, result.stderr)
