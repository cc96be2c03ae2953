"""Training settings: one dataclass with three presets and validated advanced fields.

This module does not import torch, so settings pages can use it cheaply.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from stylestudio.core.errors import TrainingError

PRESET_NAMES = ("quick", "balanced", "best")
ADVERSARIAL_KINDS = ("hinge", "lsgan")
#: How several paintings become style targets: each output matches the one it is closest to
#: ("nearest"), or all match their averaged Gram matrices ("average", which blurs them).
MULTI_PAINTING_KINDS = ("nearest", "average")
AUGMENT_KINDS = ("color", "translation", "cutout")
#: What the frozen VGG19 runs in on the CPU: ``auto`` is bfloat16 where the CPU has it in
#: hardware, else float32 (see ``precision``). CUDA follows ``mixed_precision``.
FeaturePrecision = Literal["auto", "fp32", "bf16"]
FEATURE_PRECISIONS: tuple[str, ...] = get_args(FeaturePrecision)
_LAYER = re.compile(r"relu[1-5]_1")

#: Fields whose change does not invalidate a checkpoint (a run may be extended or re-paced, or
#: resumed on a machine whose CPU runs the frozen feature network in another precision).
RESUME_FREE_FIELDS = frozenset(
    {"steps", "checkpoint_every", "preview_every", "preview_size", "feature_precision"}
)


#: Fields newer than the first manifests: written only when set (see ``to_dict``).
_OMITTED_WHEN_DEFAULT = ("style_layer_weights",)


def valid_style_scales(scales: tuple[float, ...]) -> bool:
    """One or more Gram-target scales, each a fraction of the size between 0.05 and 2."""
    return bool(scales) and all(0.05 <= s <= 2.0 for s in scales)


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides how a style is learned.

    The content and style losses are relative errors (see ``losses``), so their weights do not
    depend on the VGG weights file or on a layer's activation scale; ``tv`` is the mean squared
    difference of neighbouring pixels.
    """

    steps: int = 4000
    crop_size: int = 256  # side of the square photo crops the generator practises on
    batch_size: int = 4
    style_size: int = 512  # long side the style images are scaled to (never enlarged)
    style_scales: tuple[float, ...] = (1.0, 0.5)  # Gram targets at these fractions of style_size
    multi_painting: str = "nearest"  # several paintings: see MULTI_PAINTING_KINDS
    content_size: int = 640  # long side practice photos are scaled to before cropping
    min_crop_scale: float = 0.5  # crops cover crop_size / s pixels, s uniform in [this, 1]
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    lr_norm: float = 1e-2  # the instance-norm scales and shifts (see norm_only_steps)
    norm_only_steps: int = 0  # first steps adapt only the norm parameters (fast warm start)
    warm_start: bool = False  # without start_from: begin from the closest base-model painting
    content_weight: float = 1.0
    style_weight: float = 5.0
    tv_weight: float = 1.0
    color_weight: float = 10.0  # the painting's colour distribution (see losses.color_loss)
    swd_weight: float = 0.0  # its VGG feature distributions (see losses.swd_loss)
    adversarial_weight: float = 0.05
    use_content: bool = True
    use_style: bool = True
    use_tv: bool = True
    use_color: bool = True  # only counts when color_weight > 0
    use_swd: bool = True  # only counts when swd_weight > 0
    use_adversarial: bool = True
    adversarial_loss: str = "hinge"  # "hinge" or "lsgan"
    augment: tuple[str, ...] = AUGMENT_KINDS  # differentiable augmentation for the discriminator
    content_layer: str = "relu4_1"
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    #: One factor per style layer on its Gram error (empty: all 1). A deep layer such as relu5_1
    #: sees whole motifs; at full weight it paints them over faces, at a fraction it lends the
    #: painting's larger marks without that.
    style_layer_weights: tuple[float, ...] = ()
    seed: int = 0
    checkpoint_every: int = 500
    preview_every: int = 100
    preview_size: int = 256  # long side of the preview / thumbnail samples
    generator_channels: int = 32
    generator_blocks: int = 5
    discriminator_channels: int = 64
    discriminator_layers: int = 3
    mixed_precision: bool = True  # CUDA only (float16 autocast + GradScaler)
    feature_precision: FeaturePrecision = "auto"  # CPU only: the VGG19 passes (see above)
    deterministic: bool = True  # torch.use_deterministic_algorithms during CPU runs
    preset_name: str = field(default="custom", compare=False)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> TrainingConfig:
        """``quick`` (minutes on a GPU), ``balanced`` (default) or ``best``; then overrides."""
        base: dict[str, Any]
        # Every preset adapts the closest built-in base style (warm_start): first only its
        # instance-norm parameters, then every weight. Step counts are sized for a 2-core CPU
        # (see the README's time-to-quality table); a GPU does the same steps in seconds.
        if name == "quick":
            base = {
                "steps": 300,
                "crop_size": 128,
                "batch_size": 2,
                "style_size": 384,
                "content_size": 384,
                "norm_only_steps": 50,
                "checkpoint_every": 100,
                "preview_every": 25,
            }
        elif name == "balanced":
            base = {
                "steps": 1000,
                "crop_size": 160,
                "batch_size": 2,
                "style_size": 448,
                "content_size": 448,
                "norm_only_steps": 100,
                "checkpoint_every": 200,
                "preview_every": 50,
            }
        elif name == "best":
            base = {
                "steps": 2200,
                "crop_size": 192,
                "batch_size": 2,
                "style_size": 512,
                "content_size": 512,
                "style_scales": (1.0, 0.5, 0.25),
                "norm_only_steps": 100,
                "checkpoint_every": 250,
                "preview_every": 100,
            }
        else:
            raise TrainingError(
                f"Unknown training preset {name!r}; choose one of {', '.join(PRESET_NAMES)}."
            )
        base["warm_start"] = True
        base["preset_name"] = name
        base.update(overrides)
        return cls(**base).validated()

    def replace(self, **changes: Any) -> TrainingConfig:
        return dataclasses.replace(self, **changes).validated()

    def validated(self) -> TrainingConfig:
        """``self`` if every field is usable, else TrainingError naming the first bad one."""

        def bad(message: str) -> TrainingError:
            return TrainingError(f"Invalid training setting: {message}.")

        positive_ints = [
            "steps",
            "crop_size",
            "batch_size",
            "style_size",
            "content_size",
            "checkpoint_every",
            "preview_every",
            "preview_size",
            "generator_channels",
            "discriminator_channels",
            "discriminator_layers",
        ]
        for name in positive_ints:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise bad(f"{name} must be a whole number of at least 1")
        if self.crop_size < 32 or self.crop_size % 4:
            raise bad("crop_size must be a multiple of 4 and at least 32")
        if self.content_size < self.crop_size or self.style_size < self.crop_size:
            raise bad("content_size and style_size must be at least crop_size")
        if not 4 <= self.generator_channels <= 256 or not 0 <= self.generator_blocks <= 32:
            raise bad("the generator size is out of range")
        if not valid_style_scales(self.style_scales):
            raise bad("style_scales must be one or more numbers between 0.05 and 2")
        if not 0.1 <= self.min_crop_scale <= 1.0:
            raise bad("min_crop_scale must be between 0.1 and 1")
        if not isinstance(self.norm_only_steps, int) or self.norm_only_steps < 0:
            raise bad("norm_only_steps must be a whole number, 0 or more")
        for name in ("lr_g", "lr_d", "lr_norm"):
            if not 0 < getattr(self, name) < 1:
                raise bad(f"{name} must be between 0 and 1")
        for name in (
            "content_weight",
            "style_weight",
            "tv_weight",
            "color_weight",
            "swd_weight",
            "adversarial_weight",
        ):
            if getattr(self, name) < 0:
                raise bad(f"{name} must not be negative")
        if self.multi_painting not in MULTI_PAINTING_KINDS:
            raise bad(f"multi_painting must be one of {', '.join(MULTI_PAINTING_KINDS)}")
        if self.feature_precision not in FEATURE_PRECISIONS:
            raise bad(f"feature_precision must be one of {', '.join(FEATURE_PRECISIONS)}")
        if self.adversarial_loss not in ADVERSARIAL_KINDS:
            raise bad(f"adversarial_loss must be one of {', '.join(ADVERSARIAL_KINDS)}")
        unknown = [a for a in self.augment if a not in AUGMENT_KINDS]
        if unknown:
            raise bad(f"unknown augmentation {unknown[0]!r}")
        for layer in (self.content_layer, *self.style_layers):
            if not _LAYER.fullmatch(layer):
                raise bad(f"{layer!r} is not a VGG layer name such as relu3_1")
        if not self.style_layers and self.use_style:
            raise bad("style_layers must not be empty while the style loss is on")
        if self.style_layer_weights:
            if len(self.style_layer_weights) != len(self.style_layers):
                raise bad("style_layer_weights needs one number per style layer")
            if any(not 0 <= w <= 100 for w in self.style_layer_weights) or not any(
                self.style_layer_weights
            ):
                raise bad("style_layer_weights must be between 0 and 100, not all 0")
        colour = self.use_color and self.color_weight > 0
        swd = self.use_swd and self.swd_weight > 0
        if not (self.use_content or self.use_style or colour or swd or self.use_adversarial):
            raise bad(
                "at least one of the content, style, colour, feature-distribution and "
                "adversarial losses must be on"
            )
        return self

    @property
    def feature_layers(self) -> tuple[str, ...]:
        """The VGG layers the losses read, in network order."""
        layers = set(self.style_layers) | {self.content_layer}
        return tuple(sorted(layers))

    @property
    def layer_weights(self) -> dict[str, float] | None:
        """``{style layer: factor}``, or None when every layer weighs 1."""
        if not self.style_layer_weights:
            return None
        return dict(zip(self.style_layers, self.style_layer_weights, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples become lists). Fields added later are left out while they
        hold their default, so older manifests and checkpoints keep their resume keys."""
        data = {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }
        for name in _OMITTED_WHEN_DEFAULT:
            if not data[name]:
                del data[name]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingConfig:
        known = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise TrainingError(f"Unknown training setting {unknown[0]!r}.")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        try:
            return cls(**values).validated()
        except TypeError as exc:
            raise TrainingError(f"Invalid training settings: {exc}.") from None

    def resume_key(self) -> dict[str, Any]:
        """The settings a checkpoint must match to be resumed with this config."""
        data = self.to_dict()
        for name in (*RESUME_FREE_FIELDS, "preset_name"):
            data.pop(name, None)
        return data
