"""Post-network adjustments that need no model: strength, colour preservation, region mask.

They run on the full-resolution original and the network's raw output, so the GUI can apply them
instantly while a slider moves, without re-running the network.
"""

from __future__ import annotations

import numpy as np

from stylestudio.core.mask import composite

# sRGB (D65) <-> CIE XYZ <-> CIELAB. Lab is used so that "preserve colours" keeps perceptual
# chroma (a*, b*) of the photo and takes only lightness (L*) from the stylised image.
_RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750],
     [0.0193339, 0.1191920, 0.9503041]], dtype=np.float64,
)  # fmt: skip
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE = np.array([0.95047, 1.0, 1.08883])
_EPS = 216 / 24389
_KAPPA = 24389 / 27


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, None)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1], shape (..., 3) → CIELAB (L in [0, 100])."""
    xyz = _srgb_to_linear(rgb.astype(np.float64)) @ _RGB_TO_XYZ.T / _WHITE
    f = np.where(xyz > _EPS, np.cbrt(xyz), (_KAPPA * xyz + 16) / 116)
    lab = np.empty_like(f)
    lab[..., 0] = 116 * f[..., 1] - 16
    lab[..., 1] = 500 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """CIELAB → sRGB in [0, 1] (out-of-gamut colours are clipped)."""
    fy = (lab[..., 0] + 16) / 116
    fx = fy + lab[..., 1] / 500
    fz = fy - lab[..., 2] / 200
    f = np.stack([fx, fy, fz], axis=-1)
    xyz = np.where(f**3 > _EPS, f**3, (116 * f - 16) / _KAPPA) * _WHITE
    return np.clip(_linear_to_srgb(xyz @ _XYZ_TO_RGB.T), 0.0, 1.0)


def preserve_colors(original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """Lightness from ``stylized``, chroma (a*, b*) from ``original``; float32 [0, 1]."""
    lab = rgb_to_lab(original)
    lab[..., 0] = rgb_to_lab(stylized)[..., 0]
    return lab_to_rgb(lab).astype(np.float32)


def apply_adjustments(
    original: np.ndarray,
    stylized: np.ndarray,
    strength: float = 1.0,
    keep_colors: bool = False,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Final image from the original photo and the network output (same shape, float32 [0, 1]).

    ``strength`` blends linearly with the original; 0 returns the original unchanged. ``mask``
    ((H, W) float in [0, 1], already fitted: ``RegionMask.fitted``) then says where the
    adjusted result replaces the original (``core.mask.composite``); this is the one place a
    region mask is applied.
    """
    if original.shape != stylized.shape:
        raise ValueError(f"shape mismatch: {original.shape} vs {stylized.shape}")
    strength = float(np.clip(strength, 0.0, 1.0))
    if strength == 0.0:
        return original.copy()
    result = preserve_colors(original, stylized) if keep_colors else stylized.astype(np.float32)
    if strength < 1.0:
        result = original + (result - original) * np.float32(strength)
    result = np.clip(result, 0.0, 1.0).astype(np.float32, copy=False)
    if mask is not None:
        result = composite(original, result, mask)
    return result
