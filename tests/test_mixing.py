"""Style mixing: the spec, lineages, the parameter interpolation, the engine and saved blends."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylestudio.core.engine.stylize import Engine, StylizeOptions
from stylestudio.core.errors import StyleNotFoundError
from stylestudio.core.library import StyleLibrary
from stylestudio.core.mix_save import save_blend
from stylestudio.core.mixing import (
    Blend,
    Lineage,
    MixError,
    MixPart,
    NoLineage,
    library_lineages,
    lineage_of,
    looks_like_blend,
    mix_states,
    parse_blend_spec,
    resolve_blend,
)
from stylestudio.core.models.generator import Generator
from stylestudio.core.models.norm import norm_parameter_names
from stylestudio.core.stylepack import read_style
from tests.conftest import psnr
from tests.mixing_styles import (
    BASE_ID,
    CONFIG,
    member,
    row_state,
    shared_state,
    write_lineage_styles,
    write_style,
)


@pytest.fixture
def library(tmp_path: Path) -> StyleLibrary:
    user = tmp_path / "user-styles"
    write_lineage_styles(user)
    return StyleLibrary(user_dir=user, builtin_dir=tmp_path / "no-builtins")


def _photo(h: int = 40, w: int = 52, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.5 * np.sin(xx / 5.0)], -1)
    return np.clip(img + rng.normal(0, 0.05, img.shape), 0, 1).astype(np.float32)


def _run(state: dict[str, torch.Tensor], image: np.ndarray) -> np.ndarray:
    net = Generator(CONFIG)
    net.load_state_dict(state)
    with torch.inference_mode():
        x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
        return net.eval()(x)[0].permute(1, 2, 0).numpy()


# -- the spec -------------------------------------------------------------------------------------


def test_spec_with_spaces_and_weights() -> None:
    parts = parse_blend_spec(" Starry Night : 0.6 ,great-wave:0.4")
    assert parts == (MixPart("Starry Night", 0.6), MixPart("great-wave", 0.4))
    assert parse_blend_spec("a:3,b:1,c:1e-1,d:.5")[2] == MixPart("c", 0.1)
    # the weight follows the last colon: names may hold colons
    assert parse_blend_spec("Night: Blue:1,b:1")[0] == MixPart("Night: Blue", 1.0)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("a:0.6,b", "'b' has no weight"),
        ("a:x,b:1", "not a number"),
        ("a:0,b:1", "must be more than 0, not 0"),
        ("a:-0.5,b:1", "must be more than 0"),
        ("a:nan,b:1", "must be more than 0"),
        ("a:1", "at least 2 styles"),
        ("a:1,b:1,c:1,d:1,e:1", "at most 4 styles, not 5"),
        ("a:1,,b:1", "empty entry"),
        (":1,b:1", "name is missing"),
        ("Wave:1,wave:2", "appears twice"),
    ],
)
def test_bad_specs_are_one_sentence(spec: str, says: str) -> None:
    with pytest.raises(MixError, match=says) as caught:
        parse_blend_spec(spec)
    assert "\n" not in str(caught.value)


def test_what_counts_as_a_blend_spec() -> None:
    assert looks_like_blend("a:0.6,b:0.4") and looks_like_blend("a:1") and looks_like_blend("a,b")
    assert not looks_like_blend("Night: Blue") and not looks_like_blend("ink-wash")


# -- the maths ----------------------------------------------------------------------------------


def test_weights_one_and_zero_reproduce_each_parent_exactly() -> None:
    shared = shared_state(0)
    a, b = row_state(shared, 1), row_state(shared, 2)
    for weights, parent in (((1.0, 0.0), a), ((0.0, 1.0), b), ((5.0, 0.0), a)):
        mixed = mix_states([a, b], weights)
        assert set(mixed) == set(parent)
        for name in parent:
            assert mixed[name].dtype == parent[name].dtype
            assert torch.equal(mixed[name], parent[name]), name


def test_half_and_half_is_the_average_of_every_parameter() -> None:
    a, b = row_state(shared_state(0), 1), row_state(shared_state(5), 2)  # convs differ too
    mixed = mix_states([a, b], (2.0, 2.0))  # normalised to 0.5 / 0.5
    for name in a:
        expected = ((a[name].double() + b[name].double()) / 2).float()
        assert torch.equal(mixed[name], expected), name
    three = mix_states([a, b], (3.0, 1.0))
    for name in a:
        expected = (0.75 * a[name].double() + 0.25 * b[name].double()).float()
        assert torch.allclose(three[name], expected, atol=0, rtol=0), name


def test_rows_of_one_base_differ_only_in_norm_parameters_and_the_blend_keeps_that() -> None:
    shared = shared_state(0)
    a, b = row_state(shared, 1), row_state(shared, 2)
    mixed = mix_states([a, b], (0.3, 0.7))
    norms = set(norm_parameter_names(Generator(CONFIG)))
    for name in a:
        if name in norms:
            assert not torch.equal(mixed[name], a[name]) and not torch.equal(mixed[name], b[name])
        else:
            assert torch.equal(mixed[name], shared[name])


def test_states_of_other_networks_are_refused() -> None:
    a = row_state(shared_state(0), 1)
    short = {k: v for k, v in a.items() if not k.startswith("head")}
    with pytest.raises(MixError, match="same network"):
        mix_states([a, short], (1, 1))
    with pytest.raises(MixError, match="weight"):
        mix_states([a, a], (1, -1))


# -- lineages -----------------------------------------------------------------------------------


def test_lineages_from_base_rows_warm_starts_and_fine_tunes(library: StyleLibrary) -> None:
    records = {r.name: r for r in library.list()}
    lineages = library_lineages(list(records.values()))
    base = lineages[records["Starry Night"].id]
    assert isinstance(base, Lineage) and base.base_model == BASE_ID
    assert lineages[records["Great Wave"].id] == base
    assert lineages[records["Kanagawa Fine"].id] == base  # started_from "test-base-1:hokusai"
    assert lineages[records["Alien"].id].base_model == "another-base-2"
    ink = lineages[records["Ink Wash"].id]
    assert isinstance(ink, NoLineage) and "not trained from a base model" in ink.reason


def test_a_style_fine_tuned_from_a_library_style_inherits_its_lineage(
    library: StyleLibrary,
) -> None:
    starry = library.get("Starry Night")
    child_id = write_style(
        library.user_dir, "Child", row_state(shared_state(0), 8), {"started_from": starry.id}
    )
    grandchild_id = write_style(
        library.user_dir, "Grandchild", row_state(shared_state(0), 9), {"started_from": child_id}
    )
    lineages = library_lineages(library.list())
    assert lineages[grandchild_id] == lineages[starry.id]
    orphan = lineage_of(library.get("Child").manifest)  # nothing to look the parent up in
    assert isinstance(orphan, NoLineage) and "not in the library" in orphan.reason
    ink = library.get("Ink Wash")
    from_ink = write_style(library.user_dir, "From Ink", shared_state(7), {"started_from": ink.id})
    reason = library_lineages(library.list())[from_ink]
    assert isinstance(reason, NoLineage) and "'Ink Wash'" in reason.reason


# -- resolving a blend ----------------------------------------------------------------------------


def test_resolve_normalises_weights_and_names_the_blend(library: StyleLibrary) -> None:
    blend = resolve_blend(parse_blend_spec("Starry Night:3, great wave:1"), library)
    assert blend.weights == (0.75, 0.25)
    assert [p.name for p in blend.parts] == ["Starry Night", "Great Wave"]
    assert blend.name == "Starry Night 75% + Great Wave 25%"
    starry, wave = library.get("Starry Night").id, library.get("Great Wave").id
    assert blend.style_id == f"{starry}-75+{wave}-25"
    fine = resolve_blend(parse_blend_spec("Starry Night:1,Kanagawa Fine:1"), library)
    assert fine.weights == (0.5, 0.5)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("Starry Night:0.5,Ink Wash:0.5", "'Ink Wash' cannot be blended: it was not trained"),
        ("Ink Wash:0.5,Starry Night:0.5", "'Ink Wash' cannot be blended"),
        ("Starry Night:0.5,Alien:0.5", "'Alien' cannot be blended with 'Starry Night'"),
    ],
)
def test_styles_without_a_shared_lineage_are_refused(
    library: StyleLibrary, spec: str, says: str
) -> None:
    with pytest.raises(MixError, match=says) as caught:
        resolve_blend(parse_blend_spec(spec), library)
    assert "\n" not in str(caught.value)


def test_other_network_sizes_are_refused_even_from_one_base(library: StyleLibrary) -> None:
    from stylestudio.core.models.generator import GeneratorConfig

    wide = GeneratorConfig(base_channels=8, residual_blocks=1)
    write_style(
        library.user_dir, "Wide", row_state(shared_state(0, wide), 1, wide), member(), config=wide
    )
    with pytest.raises(MixError, match=r"'Wide' cannot be blended with 'Starry Night'.*differ"):
        resolve_blend(parse_blend_spec("Starry Night:1,Wide:1"), library)


def test_more_than_four_styles_and_unknown_styles_are_refused(library: StyleLibrary) -> None:
    for i in range(3):
        write_style(library.user_dir, f"Row {i}", row_state(shared_state(0), 10 + i), member())
    names = ["Starry Night", "Great Wave", "Row 0", "Row 1", "Row 2"]
    five = [MixPart(n, 1.0) for n in names]
    with pytest.raises(MixError, match="at most 4"):
        resolve_blend(five, library)
    assert len(resolve_blend(five[:4], library).parts) == 4
    with pytest.raises(StyleNotFoundError, match="'Nope'"):
        resolve_blend([MixPart("Starry Night", 1), MixPart("Nope", 1)], library)
    with pytest.raises(MixError, match="appears twice"):
        starry = library.get("Starry Night")
        resolve_blend([MixPart(starry.id, 1), MixPart("Starry Night", 1)], library)


# -- the engine ---------------------------------------------------------------------------------


def test_engine_runs_a_blend_as_one_interpolated_network(library: StyleLibrary) -> None:
    blend = resolve_blend(parse_blend_spec("Starry Night:0.5,Great Wave:0.5"), library)
    image = _photo()
    engine = Engine("cpu")
    result = engine.stylize(image, blend, StylizeOptions(tile_size=0))
    states = [read_style(p.location)[1] for p in blend.parts]
    expected = _run(mix_states(states, (0.5, 0.5)), image)
    assert psnr(result.raw, expected) > 90
    # not a cross-fade of the two pictures: the networks are mixed, then run once
    crossfade = 0.5 * _run(states[0], image) + 0.5 * _run(states[1], image)
    assert float(np.abs(result.raw - crossfade).mean()) > 0.01
    # cached by (style id, fingerprint, weight): the same blend reuses the model
    model = engine.model_for_blend(blend)
    assert engine.model_for_blend(blend) is model
    other = resolve_blend(parse_blend_spec("Starry Night:0.3,Great Wave:0.7"), library)
    assert engine.model_for_blend(other) is not model
    shifted = engine.stylize(image, other, StylizeOptions(tile_size=0))
    assert psnr(shifted.raw, _run(mix_states(states, (0.3, 0.7)), image)) > 90


def test_engine_reloads_a_parent_changed_on_disk_and_refuses_another_network(
    library: StyleLibrary,
) -> None:
    import shutil

    from stylestudio.core.models.generator import GeneratorConfig

    blend = resolve_blend(parse_blend_spec("Starry Night:0.5,Great Wave:0.5"), library)
    engine = Engine("cpu")
    first = engine.stylize(_photo(), blend, StylizeOptions(tile_size=0))
    wave = library.get("Great Wave")
    shutil.rmtree(wave.location)
    write_style(
        library.user_dir, "Great Wave", row_state(shared_state(0), 5), member(), style_id=wave.id
    )
    fresh = engine.stylize(_photo(), blend, StylizeOptions(tile_size=0))  # the new weights
    states = [read_style(p.location)[1] for p in blend.parts]
    assert psnr(fresh.raw, _run(mix_states(states, (0.5, 0.5)), _photo())) > 90
    assert psnr(fresh.raw, first.raw) < 60
    shutil.rmtree(wave.location)
    wide = GeneratorConfig(base_channels=8, residual_blocks=1)
    state = row_state(shared_state(0, wide), 1, wide)
    write_style(library.user_dir, "Great Wave", state, member(), config=wide, style_id=wave.id)
    with pytest.raises(MixError, match="'Great Wave' changed on disk"):
        engine.stylize(_photo(), blend, StylizeOptions(tile_size=0))


def test_blend_values_are_checked() -> None:
    from stylestudio.core.mixing import BlendPart

    lineage = Lineage("a", (), "b")
    one = BlendPart("x", "X", Path("x"), 1.0)
    with pytest.raises(MixError, match="at least 2"):
        Blend((one,), lineage)
    with pytest.raises(MixError, match="same style twice"):
        Blend((one, one), lineage)
    with pytest.raises(MixError, match="more than 0"):
        Blend((one, BlendPart("y", "Y", Path("y"), 0.0)), lineage)


# -- saving a blend as a style --------------------------------------------------------------------


def test_save_blend_records_parents_weights_and_lineage(library: StyleLibrary, tmp_path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray((_photo(60, 80) * 255).astype(np.uint8)).save(photo)
    blend = resolve_blend(parse_blend_spec("Starry Night:0.6,Great Wave:0.4"), library)
    record = save_blend(library, blend, "Night Wave", thumbnail_photo=photo)

    assert record.name == "Night Wave" and not record.builtin
    assert record.thumbnail is not None and record.thumbnail.is_file()
    with Image.open(record.thumbnail) as thumb:  # a centre square, like trained styles'
        assert thumb.size == (256, 256)
    data = json.loads((record.location / "style.json").read_text())
    mix = data["training"]["mix"]
    parents = [library.get("Starry Night"), library.get("Great Wave")]
    assert [p["id"] for p in mix["parents"]] == [p.id for p in parents]
    assert [p["name"] for p in mix["parents"]] == ["Starry Night", "Great Wave"]
    assert [p["version"] for p in mix["parents"]] == [1, 1]
    assert [p["weights_sha256"] for p in mix["parents"]] == [
        p.manifest.weights_sha256 for p in parents
    ]
    assert mix["weights"] == pytest.approx([0.6, 0.4])
    assert mix["lineage"]["base_model"] == BASE_ID
    assert data["license"] == "MIT"
    assert data["attribution"] == "Starry Night: After van Gogh; Great Wave: After Hokusai"
    assert "Starry Night (60 %) and Great Wave (40 %)" in data["description"]
    # the weights are the interpolation, stored like every style's (safetensors, verified)
    manifest, tensors = read_style(record.location)
    expected = mix_states([read_style(p.location)[1] for p in parents], (0.6, 0.4))
    assert set(tensors) == set(expected)
    assert all(torch.equal(tensors[k], expected[k]) for k in expected)
    # it keeps the lineage: it can be mixed again, and a temp-free library is left behind
    assert lineage_of(manifest) == library_lineages(library.list())[parents[0].id]
    again = resolve_blend(parse_blend_spec("Night Wave:0.5,Kanagawa Fine:0.5"), library)
    assert again.weights == (0.5, 0.5)
    assert not [p for p in library.user_dir.iterdir() if p.name.startswith(".tmp")]


def test_save_blend_refuses_a_parent_that_left_the_library(library: StyleLibrary) -> None:
    blend = resolve_blend(parse_blend_spec("Starry Night:0.6,Great Wave:0.4"), library)
    library.delete(library.get("Great Wave").id)
    with pytest.raises(MixError, match="'Great Wave' of the blend is no longer in the library"):
        save_blend(library, blend, "Lost")
    assert [r.name for r in library.list() if r.name == "Lost"] == []
