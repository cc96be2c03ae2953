"""A base generator learned on many paintings at once (conditional instance normalisation).

Dumoulin, Shlens and Kudlur (2017) showed that one network can hold many styles if every style
has its own scale and shift in each instance-norm layer while the convolutions are shared. That
is how StyleStudio's base model is trained: the convolutions become a general "painting basis",
and a style is just its normalisation parameters. This gives three things:

* the built-in gallery: style ``s`` is the base with norm parameters ``s`` plugged in, an
  ordinary ``Generator`` state dict that the engine runs like any other style;
* a warm start for a user's new style: begin from the base with the mean of the gallery's norm
  parameters and adapt those (then everything) for a few hundred steps instead of thousands;
* mixing: interpolating two styles' norm parameters blends the styles, not the pictures.

The training loop here is separate from :class:`~stylestudio.core.training.trainer.Trainer`
(which learns one style for a user, with events, pause and the library); the loss maths is the
same code (:mod:`losses`, :mod:`augment`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.func import functional_call

from stylestudio.core import atomic
from stylestudio.core.models.discriminator import DiscriminatorConfig, PatchDiscriminator
from stylestudio.core.models.generator import Generator, GeneratorConfig
from stylestudio.core.models.norm import norm_parameter_names
from stylestudio.core.training import losses
from stylestudio.core.training.augment import diff_augment
from stylestudio.core.training.checkpoint import restore_state, state_tensors
from stylestudio.core.training.config import TrainingConfig
from stylestudio.core.training.data import CropSampler
from stylestudio.core.training.precision import frozen_features
from stylestudio.core.training.step import gram_targets, multi_scale_style_loss

FORMAT = "stylestudio.base-training"
STATE_FILE = "base-state.safetensors"
META_FILE = "base-state.json"


class StyleBank(nn.Module):
    """Per-style copies of every norm parameter: ``table[name]`` has shape ``(styles, C)``."""

    def __init__(self, generator: Generator, styles: int) -> None:
        super().__init__()
        self.names = norm_parameter_names(generator)
        params = dict(generator.named_parameters())
        self.tables = nn.ParameterList(
            [
                nn.Parameter(params[n].detach().clone().unsqueeze(0).repeat(styles, 1))
                for n in self.names
            ]
        )

    @property
    def styles(self) -> int:
        return int(self.tables[0].shape[0])

    def row(self, index: int) -> dict[str, torch.Tensor]:
        return {n: t[index] for n, t in zip(self.names, self.tables, strict=True)}

    def mixture(self, weights: torch.Tensor) -> dict[str, torch.Tensor]:
        """Norm parameters of a blend (``weights``: one number per style, summing to 1)."""
        w = weights.to(self.tables[0])
        return {n: (w[:, None] * t).sum(0) for n, t in zip(self.names, self.tables, strict=True)}


class ConditionalDiscriminator(nn.Module):
    """A PatchGAN whose last layer has one output map per style (a multi-head discriminator)."""

    def __init__(self, config: DiscriminatorConfig, styles: int) -> None:
        super().__init__()
        base = PatchDiscriminator(config)
        layers = list(base.net.children())
        last = layers[-1]
        head = nn.Conv2d(last.in_channels, styles, last.kernel_size, last.stride, last.padding)
        from torch.nn.utils.parametrizations import spectral_norm

        self.trunk = nn.Sequential(*layers[:-1])
        self.head = spectral_norm(head)

    def forward(self, x: torch.Tensor, style: int) -> torch.Tensor:
        return self.head(self.trunk(x * 2.0 - 1.0))[:, style : style + 1]


@dataclass(frozen=True)
class BaseStyle:
    """One painting of the base model (an index into the bank)."""

    key: str  # file stem, e.g. "van-gogh-starry-night"
    sha256: str
    tensor: torch.Tensor  # (3, H, W) at the config's style_size


class MultiStyleStep:
    """Shared generator + style bank + conditional discriminator, with their optimisers."""

    def __init__(
        self,
        config: TrainingConfig,
        generator_config: GeneratorConfig,
        styles: Sequence[BaseStyle],
        extractor: nn.Module,
        device: torch.device,
    ) -> None:
        self.config = config
        self.device = device
        self.styles = list(styles)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.G = Generator(generator_config)
            self.bank = StyleBank(self.G, len(self.styles))
            self.D = ConditionalDiscriminator(
                DiscriminatorConfig(config.discriminator_channels, config.discriminator_layers),
                len(self.styles),
            )
        norm = set(self.bank.names)
        self.shared = [p for n, p in self.G.named_parameters() if n not in norm]
        for module in (self.G, self.bank, self.D):
            module.to(device).train()
        #: "bf16": the VGG19 passes run in bfloat16 (a CPU with it in hardware; see precision).
        self.extractor, self.feature_precision = frozen_features(
            extractor, config.feature_precision, device
        )
        self.opt_g = torch.optim.Adam(
            [*self.shared, *self.bank.parameters()], lr=config.lr_g, betas=(0.9, 0.999)
        )
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
        self.targets = [
            gram_targets(self.extractor, s.tensor, config.style_scales, config.style_layers, device)
            for s in self.styles
        ]

    def generate(self, content: torch.Tensor, style: int) -> torch.Tensor:
        return functional_call(self.G, self.bank.row(style), (content,))

    def step(
        self, style: int, content: torch.Tensor, real: torch.Tensor, gen: torch.Generator
    ) -> dict[str, float]:
        cfg = self.config
        content, real = content.to(self.device), real.to(self.device)
        report: dict[str, float] = {}
        if cfg.use_adversarial:
            with torch.no_grad():
                fake = self.generate(content, style)
            batch = torch.cat(
                [diff_augment(real, cfg.augment, gen), diff_augment(fake, cfg.augment, gen)]
            )
            logits = self.D(batch, style)
            n = real.shape[0]
            d_loss = losses.discriminator_loss(cfg.adversarial_loss, logits[:n], logits[n:])
            self.opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            self.opt_d.step()
            report["d"] = float(d_loss.detach())
        out = self.generate(content, style)
        feats = self.extractor(out)
        terms: dict[str, torch.Tensor] = {}
        with torch.no_grad():
            target = self.extractor(content)[cfg.content_layer]
        terms["content"] = cfg.content_weight * losses.content_loss(
            feats[cfg.content_layer], target
        )
        terms["style"] = cfg.style_weight * multi_scale_style_loss(
            self.extractor, out, feats, self.targets[style], layer_weights=cfg.layer_weights
        )
        terms["tv"] = cfg.tv_weight * losses.tv_loss(out)
        if cfg.use_adversarial:
            self.D.requires_grad_(False)
            logits = self.D(diff_augment(out, cfg.augment, gen), style)
            self.D.requires_grad_(True)
            terms["adversarial"] = cfg.adversarial_weight * losses.generator_adversarial_loss(
                cfg.adversarial_loss, logits
            )
        total = torch.stack(list(terms.values())).sum()
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        report.update({k: float(v.detach()) for k, v in terms.items()})
        report["total"] = float(total.detach())
        return report

    # -------------------------------------------------------------------------------------------

    def style_state_dict(self, style: int | None = None) -> dict[str, torch.Tensor]:
        """A plain ``Generator`` state dict for one style (None: the mean of all styles)."""
        state = {k: v.detach().float().cpu().clone() for k, v in self.G.state_dict().items()}
        if style is None:
            weights = torch.full((self.bank.styles,), 1.0 / self.bank.styles)
            rows = self.bank.mixture(weights)
        else:
            rows = self.bank.row(style)
        for name, value in rows.items():
            state[name] = value.detach().float().cpu().clone()
        return state

    def _saved_parts(self) -> tuple[dict[str, nn.Module], dict[str, torch.optim.Optimizer]]:
        """The modules and optimisers :meth:`save` writes, under their prefixes (on-disk names)."""
        return (
            {"G": self.G, "bank": self.bank, "D": self.D},
            {"opt_g": self.opt_g, "opt_d": self.opt_d},
        )

    def save(self, folder: Path, step: int, meta: dict[str, Any]) -> None:
        """Write the whole training state into ``folder`` (two files, each atomically)."""
        tensors, optimizer_meta = state_tensors(*self._saved_parts())
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / atomic.temp_name(".safetensors")
        save_file(tensors, str(tmp))
        tmp.replace(folder / STATE_FILE)
        document = {
            "format": FORMAT,
            "step": step,
            **meta,
            **optimizer_meta,
        }
        atomic.atomic_write_text(folder / META_FILE, json.dumps(document, indent=1))

    def load(self, folder: Path) -> dict[str, Any]:
        """Restore the state written by :meth:`save`; returns its JSON document."""
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{folder} holds no base-model training state")
        tensors = load_file(str(folder / STATE_FILE))
        restore_state(tensors, meta, *self._saved_parts())
        return meta


def stream_seed(seed: int, step: int, stream: int) -> int:
    """Sampling at each step is a pure function of (seed, step): resumes draw the same crops."""
    return ((seed & 0xFFFFFFFF) * 1_000_003 + step * 4 + stream) % (2**63 - 1)


def style_order(styles: int, step: int, seed: int) -> int:
    """The style of ``step``: every style once per round, in a shuffled order per round."""
    round_index, position = divmod(step, styles)
    gen = torch.Generator().manual_seed(stream_seed(seed, round_index, 3))
    return int(torch.randperm(styles, generator=gen)[position])


def train_base(
    step_obj: MultiStyleStep,
    contents: Sequence[torch.Tensor],
    steps: int,
    folder: Path,
    *,
    start_step: int = 0,
    meta: dict[str, Any] | None = None,
    checkpoint_every: int = 200,
    time_limit_s: float | None = None,
    on_step: Callable[[int, int, dict[str, float], float], None] | None = None,
) -> int:
    """Train from ``start_step`` to ``steps`` (or until ``time_limit_s``); returns the last step.

    The state is saved every ``checkpoint_every`` steps and at the end, so a killed run loses at
    most that many steps and ``start_step`` = the saved step continues it.
    """
    cfg = step_obj.config
    meta = dict(meta or {})
    content_sampler = CropSampler(list(contents), cfg.crop_size, cfg.min_crop_scale)
    real_samplers = [
        CropSampler([s.tensor], cfg.crop_size, min(cfg.style_scales), max(cfg.style_scales))
        for s in step_obj.styles
    ]
    gen = torch.Generator()
    started = time.monotonic()
    elapsed_before = float(meta.get("elapsed_s", 0.0))
    step = start_step
    while step < steps:
        if time_limit_s is not None and time.monotonic() - started > time_limit_s:
            break
        style = style_order(len(step_obj.styles), step, cfg.seed)
        gen.manual_seed(stream_seed(cfg.seed, step, 0))
        content = content_sampler.sample(cfg.batch_size, gen)
        gen.manual_seed(stream_seed(cfg.seed, step, 1))
        real = real_samplers[style].sample(cfg.batch_size, gen)
        gen.manual_seed(stream_seed(cfg.seed, step, 2))
        values = step_obj.step(style, content, real, gen)
        step += 1
        if on_step is not None:
            on_step(step, style, values, time.monotonic() - started)
        if step % checkpoint_every == 0 or step == steps:
            meta["elapsed_s"] = elapsed_before + time.monotonic() - started
            step_obj.save(folder, step, meta)
    if (step % checkpoint_every != 0 and step != steps) or step == start_step:
        meta["elapsed_s"] = elapsed_before + time.monotonic() - started
        step_obj.save(folder, step, meta)  # stopped by the time limit between checkpoints
    return step
