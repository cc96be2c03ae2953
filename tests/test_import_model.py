"""Community models in: pytorch/examples fast-neural-style checkpoints become styles.

The checkpoints are written here, from the tensor names and shapes of pytorch/examples'
``TransformerNet`` (listed below independently of StyleStudio's module), and the imported style is
compared with a functional re-statement of that network's forward pass (0–255 pixels).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from stylestudio.cli.main import main
from stylestudio.core.engine.stylize import Engine, StylizeOptions, TilingConfig
from stylestudio.core.errors import StyleFormatError
from stylestudio.core.library import StyleLibrary
from stylestudio.core.model_import import (
    PROVENANCE_KEY,
    CheckpointContainer,
    ModelImportRequest,
    import_model,
    read_checkpoint,
)
from stylestudio.core.models import fast_neural_style
from stylestudio.core.stylepack import load_style_model
from tests.conftest import psnr

# name → shape of every tensor of pytorch/examples' TransformerNet.state_dict() (current torch).
_CONVS = {
    "conv1": (32, 3, 9, 9),
    "conv2": (64, 32, 3, 3),
    "conv3": (128, 64, 3, 3),
    **{f"res{i}.conv{j}": (128, 128, 3, 3) for i in range(1, 6) for j in (1, 2)},
    "deconv1": (64, 128, 3, 3),
    "deconv2": (32, 64, 3, 3),
    "deconv3": (3, 32, 9, 9),
}
_NORMS = {
    "in1": 32,
    "in2": 64,
    "in3": 128,
    **{f"res{i}.in{j}": 128 for i in range(1, 6) for j in (1, 2)},
    "in4": 64,
    "in5": 32,
}


def fake_checkpoint(seed: int = 0, running_stats: bool = False) -> dict[str, torch.Tensor]:
    """Random weights in the layout of a pytorch/examples checkpoint, scaled so that the output
    spans the 0–255 range (not a flat clamp), as a trained model's does."""
    gen = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    for name, shape in _CONVS.items():
        fan_in = shape[1] * shape[2] * shape[3]
        state[f"{name}.conv2d.weight"] = torch.randn(shape, generator=gen) / fan_in**0.5
        state[f"{name}.conv2d.bias"] = torch.randn(shape[0], generator=gen) * 0.1
    for name, channels in _NORMS.items():
        state[f"{name}.weight"] = 1.0 + 0.2 * torch.randn(channels, generator=gen)
        state[f"{name}.bias"] = 0.1 * torch.randn(channels, generator=gen)
        if running_stats:  # what torch before 0.4 saved for every InstanceNorm2d
            state[f"{name}.running_mean"] = torch.zeros(channels)
            state[f"{name}.running_var"] = torch.ones(channels)
    state["deconv3.conv2d.weight"] *= 60.0
    state["deconv3.conv2d.bias"] = torch.full((3,), 127.5)
    return state


def reference_forward(state: dict[str, torch.Tensor], x255: torch.Tensor) -> torch.Tensor:
    """pytorch/examples' TransformerNet.forward, restated with functional ops (0–255 in/out)."""

    def conv(name: str, x: torch.Tensor, stride: int = 1, upsample: bool = False) -> torch.Tensor:
        if upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        k = state[f"{name}.conv2d.weight"].shape[-1]
        x = F.pad(x, (k // 2,) * 4, mode="reflect")
        return F.conv2d(x, state[f"{name}.conv2d.weight"], state[f"{name}.conv2d.bias"], stride)

    def norm(name: str, x: torch.Tensor) -> torch.Tensor:
        return F.instance_norm(x, weight=state[f"{name}.weight"], bias=state[f"{name}.bias"])

    y = F.relu(norm("in1", conv("conv1", x255)))
    y = F.relu(norm("in2", conv("conv2", y, 2)))
    y = F.relu(norm("in3", conv("conv3", y, 2)))
    for i in range(1, 6):
        r = f"res{i}"
        body = norm(f"{r}.in2", conv(f"{r}.conv2", F.relu(norm(f"{r}.in1", conv(f"{r}.conv1", y)))))
        y = y + body
    y = F.relu(norm("in4", conv("deconv1", y, upsample=True)))
    y = F.relu(norm("in5", conv("deconv2", y, upsample=True)))
    return conv("deconv3", y)


def _photo(height: int, width: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([xx / width, yy / height, 0.5 + 0.4 * np.sin((xx + yy) / 7)], axis=-1)
    return np.clip(base + rng.normal(0, 0.05, base.shape), 0, 1).astype(np.float32)


@pytest.fixture
def library(tmp_path: Path) -> StyleLibrary:
    return StyleLibrary(user_dir=tmp_path / "user", builtin_dir=tmp_path / "builtin")


def _user_styles(library: StyleLibrary) -> list[str]:
    return [r.name for r in library.list() if not r.builtin]


def test_torch_checkpoint_imports_via_cli_and_matches_the_original_network(tmp_path, capsys):
    state = fake_checkpoint(seed=1, running_stats=True)
    ckpt = tmp_path / "candy.pth"
    torch.save(state, ckpt)
    original = ckpt.read_bytes()

    code = main(
        [
            "styles",
            "import-model",
            str(ckpt),
            "--name",
            "Candy",
            "--license",
            "BSD-3-Clause",
            "--attribution",
            "pytorch/examples fast_neural_style",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Dropped 30 instance-norm running statistics" in err  # 15 norms × mean and var
    assert out.startswith("Imported 'Candy' as candy-")
    assert ckpt.read_bytes() == original  # the source is only read

    record = StyleLibrary().get("Candy")
    manifest = record.manifest
    assert manifest.architecture == fast_neural_style.ARCHITECTURE_NAME
    assert manifest.params == {}
    assert (manifest.license, manifest.attribution) == (
        "BSD-3-Clause",
        "pytorch/examples fast_neural_style",
    )
    provenance = manifest.training[PROVENANCE_KEY]
    assert provenance["sha256"] == hashlib.sha256(original).hexdigest()
    assert provenance["file"] == "candy.pth" and provenance["container"] == "torch"
    assert len(provenance["dropped_tensors"]) == 30
    assert record.thumbnail is not None  # rendered from the bundled sample photo

    # The style is the original network: same output as its forward pass on 0–255 pixels.
    _, model = load_style_model(record.location)
    image = _photo(48, 64)  # a multiple of 4, where the original keeps the size
    x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
    with torch.no_grad():
        want = (reference_forward(state, x * 255.0) / 255.0).clamp(0, 1)[0].permute(1, 2, 0)
    result = Engine(device="cpu").run_network(image, model, StylizeOptions(tile_size=0))
    assert result.raw.std() > 0.1  # a real image, not a flat clamp
    assert psnr(result.raw, want.numpy()) > 70


@pytest.mark.slow
def test_imported_style_runs_in_the_engine_at_odd_sizes_and_tiles_without_seams(library, tmp_path):
    ckpt = tmp_path / "mosaic.pth"
    torch.save(fake_checkpoint(seed=2), ckpt)
    record = import_model(library, ModelImportRequest(ckpt, "Mosaic")).record
    engine = Engine(device="cpu", tiling=TilingConfig(min_tile_size=128))
    image = _photo(150, 141, seed=3)
    whole = engine.stylize(image, record.location, StylizeOptions(tile_size=0))
    tiled = engine.stylize(image, record.location, StylizeOptions(tile_size=144))
    assert whole.image.shape == (150, 141, 3) and whole.tiles == 1
    assert tiled.tiles == 2
    assert psnr(tiled.raw, whole.raw) > 60  # whole-image statistics: no per-tile seams


def test_legacy_torch_format_imports(library, tmp_path):
    ckpt = tmp_path / "rain_princess.pth"
    torch.save(
        fake_checkpoint(seed=4, running_stats=True), ckpt, _use_new_zipfile_serialization=False
    )
    result = import_model(library, ModelImportRequest(ckpt, "Rain Princess"))
    assert result.record.name == "Rain Princess"
    assert len(result.notes) == 1 and "running statistics" in result.notes[0]


def test_safetensors_checkpoint_imports(library, tmp_path):
    import safetensors.torch

    state = fake_checkpoint(seed=3)
    ckpt = tmp_path / "udnie.safetensors"
    safetensors.torch.save_file(state, ckpt)
    checkpoint = read_checkpoint(ckpt)
    assert checkpoint.container is CheckpointContainer.SAFETENSORS
    assert checkpoint.dropped == () and checkpoint.notes == ()
    result = import_model(library, ModelImportRequest(ckpt, "Udnie", "CC0", "me"))
    assert result.notes == ()
    _, model = load_style_model(result.record.location)
    assert torch.equal(
        model.state_dict()["res3.conv1.conv2d.weight"], state["res3.conv1.conv2d.weight"]
    )


class _CreatesFile:
    """Unpickling this calls ``open(path, "w")``: a file appears if the pickle is ever run."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("container", ["torch.save", "torch.save-legacy", "pickle"])
def test_pickle_with_code_is_refused_and_never_run(library, tmp_path, capsys, container):
    # The payload is live: plain unpickling does create the file.
    control = tmp_path / "control-created"
    pickle.loads(pickle.dumps(_CreatesFile(control))).close()
    assert control.exists()

    marker = tmp_path / "payload-created"
    state: dict[str, object] = dict(fake_checkpoint())
    state["conv1.conv2d.weight"] = _CreatesFile(marker)
    ckpt = tmp_path / "evil.pth"
    if container == "torch.save":
        torch.save(state, ckpt)
    elif container == "torch.save-legacy":  # the format of checkpoints from before torch 1.6
        torch.save(state, ckpt, _use_new_zipfile_serialization=False)
    else:
        ckpt.write_bytes(pickle.dumps(state, protocol=2))

    with pytest.raises(StyleFormatError, match=r"nothing in the file was run"):
        import_model(library, ModelImportRequest(ckpt, "Evil"))
    assert not marker.exists()
    assert main(["styles", "import-model", str(ckpt), "--name", "Evil"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("stylestudio: error: evil.pth is not a plain state dict of tensors")
    assert err.count("\n") == 1
    assert not marker.exists()
    assert _user_styles(library) == [] and _user_styles(StyleLibrary()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.__setitem__("in3.weight", torch.ones(64)), r"'in3.weight' has shape \[64\]"),
        (
            lambda s: s.__setitem__("conv1.conv2d.weight", torch.ones(32, 3, 3, 3)),
            r"'conv1.conv2d.weight' has shape \[32, 3, 3, 3\], expected \[32, 3, 9, 9\]",
        ),
        (lambda s: s.pop("deconv2.conv2d.bias"), "lack tensor 'deconv2.conv2d.bias'"),
        (
            lambda s: s.__setitem__("in1.num_batches_tracked", torch.tensor(3.0)),
            "unexpected tensor 'in1.num_batches_tracked'",
        ),
        (
            lambda s: s.__setitem__("in2.running_mean", torch.zeros(32)),
            r"'in2.running_mean' has shape \[32\], expected \[64\]",
        ),
        (lambda s: s.__setitem__("in5.bias", torch.full((32,), float("nan"))), "32 NaN values"),
        (
            lambda s: s.__setitem__("in5.bias", torch.zeros(32, dtype=torch.int64)),
            "'in5.bias' is not a dense floating-point tensor",
        ),
    ],
    ids=["norm-shape", "conv-shape", "missing", "unexpected", "stat-shape", "nan", "int"],
)
def test_wrong_tensors_are_refused(library, tmp_path, change, message):
    state = fake_checkpoint()
    change(state)
    ckpt = tmp_path / "bad.pth"
    torch.save(state, ckpt)
    with pytest.raises(StyleFormatError, match=message):
        import_model(library, ModelImportRequest(ckpt, "Bad"))
    assert _user_styles(library) == []


def test_unrelated_models_and_other_files_are_refused(library, tmp_path):
    from stylestudio.core.models.generator import Generator, GeneratorConfig

    cases = {
        "linear.pth": torch.nn.Linear(4, 2).state_dict(),
        "ours.pth": Generator(GeneratorConfig(base_channels=4, residual_blocks=1)).state_dict(),
    }
    for name, state in cases.items():
        torch.save(state, tmp_path / name)
        with pytest.raises(StyleFormatError, match="is not a fast-neural-style TransformerNet"):
            read_checkpoint(tmp_path / name)

    torch.save({"state_dict": fake_checkpoint(), "epoch": 3}, tmp_path / "training.pth")
    with pytest.raises(StyleFormatError, match="entry 'state_dict' is a dict, not a tensor"):
        read_checkpoint(tmp_path / "training.pth")
    torch.save(list(fake_checkpoint().values()), tmp_path / "list.pth")
    with pytest.raises(StyleFormatError, match="holds a list, not a state dict"):
        read_checkpoint(tmp_path / "list.pth")
    (tmp_path / "notes.txt").write_text("just some text, long enough to look at")
    with pytest.raises(StyleFormatError, match="not a PyTorch checkpoint or safetensors file"):
        read_checkpoint(tmp_path / "notes.txt")
    (tmp_path / "empty.pth").write_bytes(b"")
    with pytest.raises(StyleFormatError, match="empty"):
        read_checkpoint(tmp_path / "empty.pth")
    with pytest.raises(StyleFormatError, match="There is no file"):
        read_checkpoint(tmp_path / "missing.pth")
    assert _user_styles(library) == []


def test_a_bad_name_is_refused_before_the_file_is_read(library, tmp_path, capsys):
    ckpt = tmp_path / "ok.pth"
    torch.save(fake_checkpoint(), ckpt)
    with pytest.raises(StyleFormatError, match="must not be empty"):
        import_model(library, ModelImportRequest(ckpt, "   "))
    assert main(["styles", "import-model", str(ckpt), "--name", "a\nb"]) == 1
    assert "line breaks" in capsys.readouterr().err
    assert _user_styles(library) == []
