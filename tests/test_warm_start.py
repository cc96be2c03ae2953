"""Fast adaptation: norm-only steps first, and starting from the closest built-in base style."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylestudio.core.library import StyleLibrary
from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig
from stylestudio.core.stylepack import StyleManifest, utc_now_iso, write_style_folder
from stylestudio.core.training import warm_start
from stylestudio.core.training.features import TinyFeatures
from stylestudio.core.training.step import TrainingStep
from tests.test_training import make_trainer, stripes, tiny_config

SLIM = GeneratorConfig(8, 1, mid_channels=8, deep_channels=12, out_channels=4)


def _base_style(parent: Path, style_id: str, seed: int) -> Path:
    torch.manual_seed(seed)
    net = Generator(SLIM)
    with torch.no_grad():
        for name, param in net.named_parameters():
            if name.endswith("norm.bias"):
                param.normal_(0.0, 1.0)
    manifest = StyleManifest(
        id=style_id,
        name=style_id.title(),
        version=1,
        architecture=ARCHITECTURE_NAME,
        params=SLIM.to_dict(),
        created=utc_now_iso(),
        weights_sha256="",
        training={warm_start.BASE_MODEL_KEY: {"id": "test-base"}},
    )
    return write_style_folder(parent, manifest, net.state_dict())


def test_norm_only_steps_leave_the_convolutions_alone_then_train_everything() -> None:
    cfg = tiny_config(norm_only_steps=1, lr_norm=1e-2)
    step = TrainingStep(cfg, TinyFeatures(cfg.feature_layers), torch.device("cpu"))
    step.set_style_targets([torch.rand(3, 64, 64)])
    before = {k: v.clone() for k, v in step.G.state_dict().items()}
    gen = torch.Generator().manual_seed(0)
    batch, real = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    step.set_phase(0)
    step.step(batch, real, gen)
    after = step.G.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(".norm." in k for k in changed)
    step.set_phase(1)
    step.step(batch, real, gen)
    assert not torch.equal(before["head.1.weight"], step.G.state_dict()["head.1.weight"])


def test_the_closest_candidate_is_chosen() -> None:
    features = TinyFeatures(("relu1_1", "relu2_1"))
    samples = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    candidates = []
    for i in range(3):
        torch.manual_seed(10 + i)
        net = Generator(SLIM)
        with torch.no_grad():
            for name, param in net.named_parameters():
                if name.endswith("norm.bias"):
                    param.normal_(0.0, 1.0)
        candidates.append(warm_start.Candidate(f"s{i}", SLIM.to_dict(), net.state_dict()))
    target_net = Generator(SLIM)
    target_net.load_state_dict(candidates[1].state)
    with torch.no_grad():
        painting = target_net(samples)[0]
    choice = warm_start.choose_start(
        candidates, features, [painting], samples, ("relu1_1", "relu2_1"), 32
    )
    assert choice.candidate.style_id == "s1"
    assert choice.scores["s1"] < min(choice.scores["s0"], choice.scores["s2"])


def test_a_new_style_starts_from_a_base_style_when_the_library_has_some(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylestudio.core import paths

    monkeypatch.setattr(paths, "base_model_dir", lambda: tmp_path / "no-base")
    builtin = tmp_path / "builtin"
    for i, style_id in enumerate(("alpha", "beta")):
        _base_style(builtin, style_id, seed=i)
    library = StyleLibrary(user_dir=tmp_path / "styles", builtin_dir=builtin)
    record = make_trainer(
        tmp_path,
        tiny_config(steps=2, norm_only_steps=2, warm_start=True),
        library=library,
        style=[stripes()],
    ).run()
    assert record.manifest.training["started_from"] in {"alpha", "beta"}
    assert record.manifest.params == SLIM.to_dict()

    cold = make_trainer(
        tmp_path, tiny_config(steps=1, warm_start=False), library=library, name="Cold"
    ).run()
    assert cold.manifest.training["started_from"] is None


def _tiny_base(folder: Path) -> None:
    from stylestudio.core.models.norm import norm_parameter_names
    from stylestudio.core.training.base_model import BaseModel

    torch.manual_seed(0)
    shared = Generator(SLIM).state_dict()
    names = norm_parameter_names(Generator(SLIM))
    rows = {
        key: {n: shared[n] + torch.randn(shared[n].shape) * 0.5 for n in names}
        for key in ("warm", "cool")
    }
    BaseModel("test-base", SLIM.to_dict(), dict(shared), rows, {"note": "test"}).save(folder)


def test_the_base_model_round_trips_and_damage_is_refused(tmp_path: Path) -> None:
    from safetensors.torch import load_file, save_file

    from stylestudio.core.errors import TrainingError
    from stylestudio.core.training.base_model import WEIGHTS, load_base_model

    assert load_base_model(tmp_path / "none") is None
    _tiny_base(tmp_path / "base")
    model = load_base_model(tmp_path / "base")
    assert model is not None and set(model.rows) == {"warm", "cool"}
    net = Generator(SLIM)
    net.load_state_dict(model.state_for("warm"))
    assert not torch.equal(
        model.state_for("warm")["head.1.weight"] * 0, net.state_dict()["head.1.weight"]
    )

    for damage in ("nan", "shape"):
        folder = tmp_path / damage
        _tiny_base(folder)
        tensors = load_file(str(folder / WEIGHTS))
        name = "row.warm.encoder.0.norm.weight"
        if damage == "nan":
            tensors[name] = torch.full_like(tensors[name], float("nan"))
        else:
            tensors[name] = torch.ones(3)
        save_file(tensors, str(folder / WEIGHTS))
        with pytest.raises(TrainingError, match="damaged"):
            load_base_model(folder)


def test_without_a_library_a_new_style_starts_from_the_closest_base_row(tmp_path: Path) -> None:
    _tiny_base(tmp_path / "base")
    candidates = warm_start.base_candidates(None, tmp_path / "base")
    assert sorted(c.style_id for c in candidates) == ["test-base:cool", "test-base:warm"]
    assert warm_start.base_generator_params(None, tmp_path / "base") == SLIM.to_dict()
