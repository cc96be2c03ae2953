"""One optimisation step of the style GAN: the models, optimisers, style targets and the maths.

``TrainingStep`` knows nothing about files, threads or events; the Trainer drives it and the
time estimate benchmarks it. Under ``torch.distributed`` the generator and discriminator are
wrapped in DistributedDataParallel; the discriminator's DDP wrapper is used only for its own update
(real and fake patches go through it as one concatenated batch, so one forward meets one backward),
and the generator's update calls the bare discriminator with its parameters frozen.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn

from stylestudio.core.models.discriminator import DiscriminatorConfig, PatchDiscriminator
from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.models.norm import norm_parameter_names
from stylestudio.core.training import losses
from stylestudio.core.training.augment import diff_augment
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.data import resize, resize_long_side
from stylestudio.core.training.precision import frozen_features

LOSS_TERMS = ("content", "style", "color", "swd", "tv", "adversarial")
_G_BETAS = (0.9, 0.999)
_D_BETAS = (0.5, 0.999)


def _distributed() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@torch.no_grad()
def gram_targets(
    extractor: nn.Module,
    image: torch.Tensor,
    scales: Sequence[float],
    layers: Sequence[str],
    device: torch.device,
) -> dict[float, dict[str, torch.Tensor]]:
    """Gram matrices ``(C, C)`` of one ``(3, H, W)`` style image at each scale and layer.

    Scale ``s`` resizes the image by ``s``; generated crops are resized by the same ``s`` before
    their Gram matrices are compared (``multi_scale_style_loss``), so each scale matches texture
    statistics at a different coarseness.
    """
    targets: dict[float, dict[str, torch.Tensor]] = {}
    for scale in scales:
        long_side = max(16, round(max(image.shape[-2:]) * scale))
        scaled = resize_long_side(image, long_side, enlarge=True).unsqueeze(0)
        feats = extractor(scaled.to(device))
        targets[scale] = {layer: losses.gram_matrix(feats[layer])[0] for layer in layers}
    return targets


@torch.no_grad()
def swd_targets(
    extractor: nn.Module,
    images: Sequence[torch.Tensor],
    layers: Sequence[str],
    seed: int,
    device: torch.device,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Per layer: fixed projection directions ``(C, C)`` and the sorted projections of every
    ``(3, H, W)`` image's feature vectors together, at full scale (for ``losses.swd_loss``)."""
    per_layer: dict[str, list[torch.Tensor]] = {}
    for image in images:
        feats = extractor(image.unsqueeze(0).to(device))
        for layer in layers:
            flat = feats[layer][0].float()
            per_layer.setdefault(layer, []).append(flat.reshape(flat.shape[0], -1))
    directions: dict[str, torch.Tensor] = {}
    targets: dict[str, torch.Tensor] = {}
    for layer, chunks in per_layer.items():
        samples = torch.cat(chunks, 1)
        channels = samples.shape[0]
        directions[layer] = losses.projections(channels, channels, seed).to(device)
        targets[layer] = losses.sorted_projections(samples, directions[layer])
    return directions, targets


def multi_scale_style_loss(
    extractor: nn.Module,
    out: torch.Tensor,
    feats: Mapping[str, torch.Tensor],
    targets: Mapping[float, Mapping[str, torch.Tensor]],
    autocast: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext,
    layer_weights: Mapping[str, float] | None = None,
) -> torch.Tensor:
    """Mean over scales of the style loss of ``out`` (whose features at scale 1 are ``feats``).

    Targets of shape ``(P, C, C)`` hold one Gram matrix per painting: each generated image is
    then scored against the painting it is closest to (the minimum over paintings), so several
    paintings teach their own looks rather than the blur of their averaged statistics.
    """
    total = None
    crop = out.shape[-1]
    for scale, layer_targets in targets.items():
        if abs(scale - 1.0) < 1e-6:
            scale_feats = feats
        else:
            side = max(16, round(crop * scale))
            with autocast():
                scale_feats = extractor(resize(out, (side, side)))
        term = losses.gram_errors(scale_feats, layer_targets, layer_weights)  # (N, P)
        total = term if total is None else total + term
    if total is None:
        raise ValueError("no style scales")
    return (total / len(targets)).min(dim=1).values.mean()


class TrainingStep:
    """Generator + discriminator + frozen feature extractor, with their optimisers."""

    def __init__(
        self,
        config: TrainingConfig,
        extractor: nn.Module,
        device: torch.device,
        *,
        generator_config: GeneratorConfig | None = None,
        generator_state: Mapping[str, torch.Tensor] | None = None,
    ) -> None:
        self.config = config
        self.device = device
        self.amp = bool(config.mixed_precision and device.type == "cuda")
        self.channels_last = device.type == "cuda"
        gen_config = generator_config or GeneratorConfig(
            config.generator_channels, config.generator_blocks
        )
        # Initialise from the seed without disturbing the caller's global RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.G = Generator(gen_config)
            self.D = PatchDiscriminator(
                DiscriminatorConfig(config.discriminator_channels, config.discriminator_layers)
            )
        if generator_state is not None:
            self.G.load_state_dict(dict(generator_state), strict=True)
        memory = torch.channels_last if self.channels_last else torch.preserve_format
        self.G.to(device=device, memory_format=memory).train()
        self.D.to(device=device, memory_format=memory).train()
        #: "bf16": the VGG19 passes run in bfloat16 (a CPU with it in hardware; see precision).
        self.extractor, self.feature_precision = frozen_features(
            extractor, config.feature_precision, device
        )
        # Two parameter groups: the instance-norm scales/shifts (a style's "identity" in a
        # network that already paints, see multistyle.py) and everything else. During the first
        # ``norm_only_steps`` only the first group learns, at ``lr_norm``.
        norm_names = set(norm_parameter_names(self.G))
        self.norm_params = [p for n, p in self.G.named_parameters() if n in norm_names]
        self.other_params = [p for n, p in self.G.named_parameters() if n not in norm_names]
        self.opt_g = torch.optim.Adam(
            [
                {"params": self.norm_params, "lr": config.lr_norm},
                {"params": self.other_params, "lr": config.lr_g},
            ],
            betas=_G_BETAS,
        )
        self.norm_only = False
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=_D_BETAS)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
        self.g_train: nn.Module = self.G
        self.d_train: nn.Module = self.D
        if _distributed():
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            self.g_train = DDP(self.G, device_ids=ids)
            # Buffers (the spectral-norm u/v vectors) are synced from rank 0 at every forward.
            self.d_train = DDP(self.D, device_ids=ids)
        self.style_targets: dict[float, dict[str, torch.Tensor]] = {}
        self.color_directions = losses.color_projections(seed=config.seed).to(device)
        self.color_target: torch.Tensor | None = None
        # Per style layer: fixed projection directions and the paintings' sorted projections.
        self.swd_directions: dict[str, torch.Tensor] = {}
        self.swd_targets: dict[str, torch.Tensor] = {}

    @property
    def uses_color(self) -> bool:
        return self.config.use_color and self.config.color_weight > 0

    @property
    def uses_swd(self) -> bool:
        return self.config.use_swd and self.config.swd_weight > 0

    def set_phase(self, step: int) -> None:
        """Train only the norm parameters before ``config.norm_only_steps``, then everything.

        Frozen weights also skip their weight-gradient convolutions, which makes the early
        steps cheaper.
        """
        norm_only = step < self.config.norm_only_steps
        if norm_only != self.norm_only:
            for param in self.other_params:
                param.requires_grad_(not norm_only)
            self.norm_only = norm_only

    # ---------------------------------------------------------------------------------------
    # helpers

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp:
            return torch.autocast(device_type="cuda", dtype=torch.float16)
        return contextlib.nullcontext()

    def to_device(self, batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(self.device, non_blocking=True)
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        return batch

    @contextlib.contextmanager
    def _frozen_discriminator(self) -> Iterator[None]:
        self.D.requires_grad_(False)
        try:
            yield
        finally:
            self.D.requires_grad_(True)

    # ---------------------------------------------------------------------------------------
    # style targets

    @torch.no_grad()
    def set_style_targets(self, style_images: Sequence[torch.Tensor]) -> None:
        """Gram matrices of the style images at each of ``config.style_scales``: one per
        image (``multi_painting="nearest"``) or their mean (``"average"``).

        Scale ``s`` resizes the style images (already at ``style_size``) by ``s``; the generated
        crops are resized by the same ``s`` before their Gram matrices are compared, so each
        scale matches texture statistics at a different coarseness.
        """
        cfg = self.config
        per_image = [
            gram_targets(self.extractor, image, cfg.style_scales, cfg.style_layers, self.device)
            for image in style_images
        ]
        targets: dict[float, dict[str, torch.Tensor]] = {}
        for scale in cfg.style_scales:
            targets[scale] = {}
            for layer in cfg.style_layers:
                each = torch.stack([grams[scale][layer] for grams in per_image])  # (P, C, C)
                if cfg.multi_painting == "average":
                    each = each.mean(dim=0)
                targets[scale][layer] = each
        self.style_targets = targets
        # The colour distribution of all the paintings' pixels together.
        pixels = torch.cat([image.reshape(3, -1) for image in style_images], 1).to(self.device)
        self.color_target = losses.sorted_colors(pixels, self.color_directions)
        if self.uses_swd:
            self.swd_directions, self.swd_targets = swd_targets(
                self.extractor, style_images, cfg.style_layers, cfg.seed, self.device
            )

    # ---------------------------------------------------------------------------------------
    # losses

    def generator_losses(
        self, content: torch.Tensor, aug_gen: torch.Generator, *, generator: nn.Module | None = None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The stylised batch and each enabled loss term, *unweighted*."""
        cfg = self.config
        net = generator or self.g_train
        terms: dict[str, torch.Tensor] = {}
        with self._autocast():
            out = net(content).float()  # float32 between the networks; each runs under autocast
            need_features = cfg.use_content or cfg.use_style or self.uses_swd
            feats = self.extractor(out) if need_features else {}
            if cfg.use_content:
                with torch.no_grad():
                    target = self.extractor(content)[cfg.content_layer]
        if cfg.use_content:
            terms["content"] = losses.content_loss(feats[cfg.content_layer], target)
        if cfg.use_style:
            if not self.style_targets:
                raise RuntimeError("set_style_targets() must be called first")
            terms["style"] = multi_scale_style_loss(
                self.extractor,
                out,
                feats,
                self.style_targets,
                self._autocast,
                cfg.layer_weights,
            )
        if self.uses_color:
            if self.color_target is None:
                raise RuntimeError("set_style_targets() must be called first")
            terms["color"] = losses.color_loss(out, self.color_target, self.color_directions)
        if self.uses_swd:
            if not self.swd_targets:
                raise RuntimeError("set_style_targets() must be called first")
            terms["swd"] = losses.swd_loss(feats, self.swd_targets, self.swd_directions)
        if cfg.use_tv:
            terms["tv"] = losses.tv_loss(out)
        if cfg.use_adversarial:
            with self._frozen_discriminator(), self._autocast():
                logits = self.D(diff_augment(out, cfg.augment, aug_gen))
            terms["adversarial"] = losses.generator_adversarial_loss(cfg.adversarial_loss, logits)
        return out, terms

    def weighted(self, terms: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        cfg = self.config
        weights = {
            "content": cfg.content_weight,
            "style": cfg.style_weight,
            "tv": cfg.tv_weight,
            "color": cfg.color_weight,
            "swd": cfg.swd_weight,
            "adversarial": cfg.adversarial_weight,
        }
        return {name: value * weights[name] for name, value in terms.items()}

    def discriminator_loss(
        self, content: torch.Tensor, real: torch.Tensor, aug_gen: torch.Generator
    ) -> torch.Tensor:
        cfg = self.config
        with torch.no_grad(), self._autocast():
            fake = self.G(content).float()
        batch = torch.cat(
            [diff_augment(real, cfg.augment, aug_gen), diff_augment(fake, cfg.augment, aug_gen)]
        )
        with self._autocast():
            logits = self.d_train(batch)
        n = real.shape[0]
        return losses.discriminator_loss(cfg.adversarial_loss, logits[:n], logits[n:])

    # ---------------------------------------------------------------------------------------
    # the step

    def step(
        self, content: torch.Tensor, real: torch.Tensor, aug_gen: torch.Generator
    ) -> dict[str, float]:
        """One discriminator update (if adversarial) then one generator update."""
        content, real = self.to_device(content), self.to_device(real)
        report: dict[str, torch.Tensor] = {}
        if self.config.use_adversarial:
            d_loss = self.discriminator_loss(content, real, aug_gen)
            self.opt_d.zero_grad(set_to_none=True)
            self.scaler.scale(d_loss).backward()
            self.scaler.step(self.opt_d)
            report["d"] = d_loss.detach()
        _, terms = self.generator_losses(content, aug_gen)
        weighted = self.weighted(terms)
        total = torch.stack(list(weighted.values())).sum()
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(total).backward()
        self.scaler.step(self.opt_g)
        self.scaler.update()
        report.update({k: v.detach() for k, v in weighted.items()})
        report["total"] = total.detach()
        values = torch.stack([v.float() for v in report.values()]).cpu().tolist()
        return dict(zip(report, values, strict=True))

    @torch.no_grad()
    def stylize(self, batch: torch.Tensor) -> torch.Tensor:
        """The current generator applied to ``batch`` (float32, CPU)."""
        was_training = self.G.training
        self.G.eval()
        try:
            with self._autocast():
                out = self.G(self.to_device(batch))
        finally:
            self.G.train(was_training)
        return out.float().cpu().contiguous()

    def generator_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().float().cpu().contiguous() for k, v in self.G.state_dict().items()}
