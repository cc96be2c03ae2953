"""The networks: generator, registry, PatchGAN discriminator, reference net, stats norm."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize

from stylestudio.core.errors import StyleFormatError
from stylestudio.core.models import registry
from stylestudio.core.models.discriminator import DiscriminatorConfig, PatchDiscriminator
from stylestudio.core.models.generator import (
    ARCHITECTURE_NAME,
    Generator,
    GeneratorConfig,
    pad_to_multiple,
)
from stylestudio.core.models.norm import (
    ChannelStats,
    StatsInstanceNorm,
    StatsRecorder,
    fixed_stats,
    recording,
    stats_norms,
)
from stylestudio.core.models.transformer_net import TransformerNet


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def generator() -> Generator:
    torch.manual_seed(0)
    return Generator().eval()


# --------------------------------------------------------------------------- generator


@pytest.mark.parametrize(
    "shape",
    [(1, 3, 37, 53), (2, 3, 64, 31), (1, 3, 5, 7), (1, 3, 4, 9), (2, 3, 3, 21), (1, 3, 1, 1)],
)
def test_generator_keeps_size_and_range(generator: Generator, shape: tuple[int, ...]) -> None:
    x = _rand(*shape)
    with torch.no_grad():
        y = generator(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()
    assert y.min() >= 0.0 and y.max() <= 1.0


def test_generator_range_on_extreme_inputs(generator: Generator) -> None:
    with torch.no_grad():
        for value in (0.0, 1.0):
            y = generator(torch.full((1, 3, 12, 16), value))
            assert y.min() >= 0.0 and y.max() <= 1.0


def test_generator_batch_items_are_independent(generator: Generator) -> None:
    x = _rand(2, 3, 64, 31, seed=3)
    with torch.no_grad():
        both = generator(x)
        second = generator(x[1:])
    torch.testing.assert_close(both[1:], second, atol=1e-5, rtol=1e-4)


def test_generator_has_no_transposed_convolutions(generator: Generator) -> None:
    """Checkerboard artefacts come from ConvTranspose2d; upsampling is nearest + conv."""
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in generator.modules())
    decoder_convs = [m for m in generator.decoder.modules() if isinstance(m, nn.Conv2d)]
    assert len(decoder_convs) == 2


def test_generator_pads_by_reflection_only(generator: Generator) -> None:
    convs = [m for m in generator.modules() if isinstance(m, nn.Conv2d)]
    pads = [m for m in generator.modules() if isinstance(m, nn.ReflectionPad2d)]
    assert convs and all(c.padding == (0, 0) for c in convs)  # no implicit zero padding
    assert len(pads) == len(convs)
    kernels = sorted(c.kernel_size[0] // 2 for c in convs)
    assert sorted(p.padding[0] for p in pads) == kernels


@pytest.mark.parametrize("size", [(40, 56), (37, 53)])
def test_generator_has_no_border_artefacts(generator: Generator, size: tuple[int, int]) -> None:
    """A flat input stays flat up to the edges (zero padding would darken the borders)."""
    with torch.no_grad():
        y = generator(torch.full((1, 3, *size), 0.3))
    spread = y.amax(dim=(2, 3)) - y.amin(dim=(2, 3))
    assert spread.max() < 1e-4


@pytest.mark.parametrize("blocks", [0, 5, 7])
def test_generator_receptive_radius_is_an_upper_bound(blocks: int) -> None:
    """With statistics fixed, one output pixel depends on input within ``receptive_radius``."""
    torch.manual_seed(1)
    model = Generator(GeneratorConfig(base_channels=4, residual_blocks=blocks)).eval()
    radius = model.receptive_radius
    size = 2 * radius + 24
    x = _rand(1, 3, size, size, seed=blocks)
    recorder = StatsRecorder(input_size=(size, size))
    with torch.no_grad(), recording(model, recorder):
        model(x)
    x.requires_grad_(True)
    with fixed_stats(model, recorder.frozen()):
        y = model(x)
    centre = size // 2
    y[0, :, centre, centre].sum().backward()
    rows, cols = (x.grad.abs().sum(dim=(0, 1)) > 0).nonzero(as_tuple=True)
    reach = max((rows - centre).abs().max().item(), (cols - centre).abs().max().item())
    assert radius - 8 <= reach <= radius  # tight, and never an underestimate


def test_pad_to_multiple() -> None:
    x = _rand(1, 3, 5, 8)
    y = pad_to_multiple(x, 4)
    assert y.shape[-2:] == (8, 8)
    torch.testing.assert_close(y[..., :5, :], x)
    torch.testing.assert_close(y[..., 5, :], x[..., 3, :])  # reflected, not zero
    aligned = x[..., :4, :]
    assert pad_to_multiple(aligned, 4) is aligned
    assert pad_to_multiple(_rand(1, 3, 3, 2), 4, minimum=8).shape[-2:] == (8, 8)


def test_generator_config_round_trip() -> None:
    config = GeneratorConfig(base_channels=16, residual_blocks=3)
    assert GeneratorConfig.from_dict(config.to_dict()) == config
    assert GeneratorConfig.from_dict({}) == GeneratorConfig()
    for bound in ({"base_channels": 4}, {"base_channels": 256}, {"residual_blocks": 0}):
        GeneratorConfig.from_dict(bound)
    GeneratorConfig.from_dict({"residual_blocks": 32})


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"base_channels": 32, "dropout": 0.5}, "dropout"),
        ({"layers": 3}, "layers"),
        ({"base_channels": 3}, "range"),
        ({"base_channels": 257}, "range"),
        ({"residual_blocks": -1}, "range"),
        ({"residual_blocks": 33}, "range"),
        ({"base_channels": "lots"}, "lots"),
        ({"base_channels": 31.9}, "31.9"),
        ({"residual_blocks": True}, "True"),
    ],
)
def test_generator_config_rejects_bad_params(params: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        GeneratorConfig.from_dict(params)
    with pytest.raises(StyleFormatError):
        registry.build_model(ARCHITECTURE_NAME, params)
    with pytest.raises(StyleFormatError):
        registry.expected_tensors(ARCHITECTURE_NAME, params)


# --------------------------------------------------------------------------- registry


@pytest.mark.parametrize("params", [{}, {"base_channels": 8, "residual_blocks": 2}])
def test_expected_tensors_match_a_real_model(params: dict) -> None:
    full = {**GeneratorConfig().to_dict(), **params}
    model = Generator(GeneratorConfig.from_dict(full))
    real = {k: (tuple(v.shape), v.dtype) for k, v in model.state_dict().items()}
    assert registry.expected_tensors(ARCHITECTURE_NAME, full) == real
    built = registry.build_model(ARCHITECTURE_NAME, full)
    assert isinstance(built, Generator)
    assert {k: tuple(v.shape) for k, v in built.state_dict().items()} == {
        k: shape for k, (shape, _) in real.items()
    }
    assert not any(v.is_meta for v in built.state_dict().values())


def test_default_params_build_the_default_generator() -> None:
    arch = registry.get_architecture(ARCHITECTURE_NAME)
    assert arch.name == ARCHITECTURE_NAME
    assert dict(arch.default_params) == GeneratorConfig().to_dict()


def test_unknown_architecture_is_a_style_format_error() -> None:
    for call in (
        lambda: registry.get_architecture("acme.unet.v9"),
        lambda: registry.build_model("acme.unet.v9", {}),
        lambda: registry.expected_tensors("acme.unet.v9", {}),
    ):
        with pytest.raises(StyleFormatError) as info:
            call()
        assert "acme.unet.v9" in str(info.value)
        assert ARCHITECTURE_NAME in str(info.value)  # says what is supported


# --------------------------------------------------------------------------- discriminator


@pytest.mark.parametrize(
    "size, expected", [((64, 64), (6, 6)), ((64, 96), (6, 10)), ((128, 128), (14, 14))]
)
def test_discriminator_logits_map_scales_with_input(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    torch.manual_seed(0)
    disc = PatchDiscriminator(DiscriminatorConfig(base_channels=8)).eval()
    with torch.no_grad():
        logits = disc(_rand(2, 3, *size))
    assert logits.shape == (2, 1, *expected)
    assert torch.isfinite(logits).all()


def test_discriminator_layers_are_spectrally_normalised() -> None:
    torch.manual_seed(0)
    config = DiscriminatorConfig(base_channels=8, strided_layers=3)
    disc = PatchDiscriminator(config)
    convs = [m for m in disc.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == config.strided_layers + 2
    for conv in convs:
        assert parametrize.is_parametrized(conv, "weight")
        kinds = [type(p).__name__ for p in conv.parametrizations.weight]
        assert kinds == ["_SpectralNorm"]
        # The effective weight's largest singular value is (close to) 1.
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert 0.9 < sigma.item() < 1.1


# --------------------------------------------------------------------------- reference net


def test_transformer_net_runs_on_64px() -> None:
    torch.manual_seed(0)
    net = TransformerNet().eval()
    with torch.no_grad():
        y = net(_rand(1, 3, 64, 64))
    assert y.shape == (1, 3, 64, 64)
    assert torch.isfinite(y).all()


# --------------------------------------------------------------------------- stats norm


def _norm(channels: int = 4, seed: int = 0) -> StatsInstanceNorm:
    norm = StatsInstanceNorm(channels)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.weight.copy_(torch.rand(channels, generator=gen) + 0.5)
        norm.bias.copy_(torch.randn(channels, generator=gen))
    return norm


def test_stats_norm_without_stats_is_instance_norm() -> None:
    norm = _norm()
    x = _rand(2, 4, 9, 7) * 3 + 1
    expected = F.instance_norm(x, weight=norm.weight, bias=norm.bias, eps=norm.eps)
    torch.testing.assert_close(norm(x), expected)


def test_stats_norm_state_dict_is_instance_norm_2d() -> None:
    norm = _norm()
    reference = nn.InstanceNorm2d(4, affine=True)
    reference.load_state_dict(norm.state_dict())
    x = _rand(1, 4, 6, 6)
    torch.testing.assert_close(norm(x), reference(x))


def test_stats_norm_with_its_own_stats_matches() -> None:
    model = nn.Sequential(_norm())
    x = _rand(1, 4, 10, 12, seed=5) * 2 - 0.5
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False)
    plain = model(x)
    with fixed_stats(model, {0: (mean, var)}):
        fixed = model(x)
    torch.testing.assert_close(fixed, plain, atol=1e-5, rtol=1e-4)
    # Other statistics really are used.
    with fixed_stats(model, {0: (mean + 1.0, var)}):
        assert not torch.allclose(model(x), plain, atol=1e-3)


def test_fixed_stats_missing_layers_keep_own_stats() -> None:
    model = nn.Sequential(_norm(seed=1), _norm(seed=2))
    x = _rand(1, 4, 8, 8)
    with fixed_stats(model, {}):
        torch.testing.assert_close(model(x), model[1](model[0](x)))


@pytest.mark.parametrize("batch", [1, 2])
def test_recording_full_image_gives_direct_stats(batch: int) -> None:
    model = nn.Sequential(_norm())
    x = _rand(batch, 4, 11, 13, seed=7) * 5
    recorder = StatsRecorder(input_size=(11, 13))
    with recording(model, recorder):
        model(x)
    mean, var = recorder.frozen()[0]
    torch.testing.assert_close(mean, x.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(var, x.var(dim=(0, 2, 3), unbiased=False), atol=1e-5, rtol=1e-4)


def test_recording_core_maps_to_each_layer_resolution() -> None:
    """The core is given in input pixels; a half-resolution layer sees half the rows/cols."""
    model = nn.Sequential(_norm(), nn.AvgPool2d(2), _norm(seed=1))
    x = _rand(1, 4, 16, 24, seed=9)
    recorder = StatsRecorder(input_size=(16, 24), core=(4, 12, 8, 20))
    with recording(model, recorder):
        model(x)
    stats = recorder.frozen()
    crop = x[:, :, 4:12, 8:20]
    torch.testing.assert_close(stats[0][0], crop.mean(dim=(0, 2, 3)))
    half = F.avg_pool2d(model[0](x), 2)[:, :, 2:6, 4:10]
    torch.testing.assert_close(stats[1][0], half.mean(dim=(0, 2, 3)), atol=1e-5, rtol=1e-4)


def test_recorded_stats_reproduce_the_generator_output() -> None:
    torch.manual_seed(2)
    model = Generator(GeneratorConfig(base_channels=8, residual_blocks=2)).eval()
    x = _rand(1, 3, 36, 44, seed=4)
    recorder = StatsRecorder(input_size=(36, 44))
    with torch.no_grad():
        plain = model(x)
        with recording(model, recorder):
            model(x)
        assert sorted(recorder.stats) == list(range(len(stats_norms(model))))
        with fixed_stats(model, recorder.frozen()):
            fixed = model(x)
    torch.testing.assert_close(fixed, plain, atol=1e-4, rtol=1e-3)


def test_context_managers_restore_layers_even_on_error() -> None:
    model = nn.Sequential(_norm(), _norm(seed=1))
    with pytest.raises(RuntimeError), recording(model, StatsRecorder()):
        raise RuntimeError("boom")
    stats = {0: (torch.zeros(4), torch.ones(4)), 1: (torch.zeros(4), torch.ones(4))}
    with pytest.raises(RuntimeError), fixed_stats(model, stats):
        raise RuntimeError("boom")
    assert all(n.recorder is None and n.fixed is None for n in stats_norms(model))


def test_empty_channel_stats_refuse_to_give_numbers() -> None:
    with pytest.raises(RuntimeError):
        ChannelStats().mean_var()
