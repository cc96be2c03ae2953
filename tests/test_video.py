"""Videos: decoding, the video export job, audio copy, cancel, errors, the stabiliser, the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from stylestudio.core.errors import StyleStudioError
from stylestudio.core.export import Look, StyleRef, parse_output
from stylestudio.core.output_names import IfExists
from stylestudio.core.video import VideoError, is_video_path
from stylestudio.core.video.export import (
    FrameDone,
    VideoRequest,
    VideoStarted,
    export_video,
    output_size,
    video_path_for,
)
from stylestudio.core.video.flicker import FlickerMeter, flicker
from stylestudio.core.video.reader import VideoReader, probe, read_frame
from stylestudio.core.video.temporal import TemporalConfig, TemporalMode, TemporalStylizer
from tests.conftest import make_tiny_style
from tests.video_clips import audio_payloads, decoded_frames, make_clip, noisy_still

pytest.importorskip("av")


@pytest.fixture(scope="module")
def engine():
    from stylestudio.core.engine import Engine

    return Engine(device="cpu")


@pytest.fixture(scope="module")
def style(tmp_path_factory: pytest.TempPathFactory) -> StyleRef:
    folder = make_tiny_style(tmp_path_factory.mktemp("styles"), "Tiny Ink", style_id="tiny-ink")
    return StyleRef(folder, "tiny-ink", "Tiny Ink")


def run(request: VideoRequest, engine, **kwargs):
    events = export_video(request, engine, **kwargs)
    seen = []
    while True:
        try:
            seen.append(next(events))
        except StopIteration as stop:
            return stop.value, seen


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".tmp-"))


# -- reading ----------------------------------------------------------------------------------


def test_probe_and_frames_of_each_container(tmp_path: Path) -> None:
    for suffix in (".mp4", ".mov", ".webm", ".gif"):
        clip = make_clip(tmp_path / f"clip{suffix}", frames=5, audio=suffix != ".gif")
        info = probe(clip)
        assert (info.width, info.height, info.frame_count) == (64, 48, 5), suffix
        assert info.has_audio is (suffix != ".gif")
        frames = decoded_frames(clip)
        assert len(frames) == 5 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
        assert frames[0][2, 2].min() > 200  # the marker is top-left: upright
    assert probe(tmp_path / "clip.mp4").frame_rate == 12


def test_rotated_clip_is_read_upright(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "phone.mp4", frames=3, rotation=90)
    info = probe(clip)
    assert (info.width, info.height, info.rotation) == (64, 48, 90)
    first = read_frame(clip, 0).rgb
    assert first.shape == (48, 64, 3)
    assert first[2, 2].min() > 200 and first[-3, -3].min() < 200


def test_frame_at_seeks(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=8)
    frames = decoded_frames(clip)
    with VideoReader(clip) as reader:
        for index in (5, 2, 7, 0):
            assert np.abs(reader.frame_at(index).rgb.astype(int) - frames[index]).mean() < 1


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "not a readable video"),
        (b"\x00\x00\x00\x18ftypmp42 this is not a movie" * 20, "not a readable video"),
    ],
)
def test_unreadable_files_are_one_sentence(tmp_path: Path, content: bytes, needle: str) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(content)
    with pytest.raises(VideoError) as info:
        probe(bad)
    message = str(info.value)
    assert needle in message and "\n" not in message and message.startswith("bad.mp4")


def test_missing_folder_unsupported_and_audio_only(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "nothing.mp4")
    with pytest.raises(VideoError, match="not a video type"):
        probe(tmp_path / "clip.avi")
    import av

    sound = tmp_path / "voice.mp4"
    with av.open(str(sound), "w") as container:
        stream = container.add_stream("aac", rate=8000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), "fltp", "mono")
        frame.sample_rate = 8000
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(VideoError, match="has no video track"):
        probe(sound)


# -- the export job ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".webm", ".gif"])
def test_export_keeps_frames_rate_and_size(tmp_path, engine, style, suffix) -> None:
    clip = make_clip(tmp_path / f"clip{suffix}", frames=6, audio=False)
    out = tmp_path / "out" / f"styled{suffix}"
    summary, events = run(VideoRequest(clip, style, out), engine)
    assert summary.written == out and summary.frames == 6 and not summary.cancelled
    assert isinstance(events[0], VideoStarted)
    done = [e for e in events if isinstance(e, FrameDone)]
    assert [e.done for e in done] == [1, 2, 3, 4, 5, 6] and done[-1].fraction == 1.0
    before, after = probe(clip), probe(out)
    assert (after.width, after.height, after.frame_count) == (64, 48, 6)
    assert after.frame_rate == before.frame_rate
    assert abs(after.duration_s - before.duration_s) < 0.02
    assert leftovers(out.parent) == []
    original = decoded_frames(clip)
    styled = decoded_frames(out)
    assert np.abs(styled[0].astype(int) - original[0].astype(int)).mean() > 3  # it was styled


def test_audio_is_copied_packet_for_packet(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "styled.mp4"
    summary, _ = run(VideoRequest(clip, style, out), engine)
    assert summary.notes == []
    source = audio_payloads(clip)
    assert len(source) > 10 and audio_payloads(out) == source
    assert probe(out).audio_codec == "aac"


def test_audio_a_container_cannot_hold_is_left_out_with_a_note(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=4)
    summary, _ = run(VideoRequest(clip, style, tmp_path / "styled.webm"), engine)
    assert summary.written is not None and not probe(summary.written).has_audio
    assert any("cannot hold aac audio" in note for note in summary.notes)


def test_rotation_and_pixels_survive_at_strength_zero(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "phone.mp4", frames=4, rotation=90, audio=False)
    out = tmp_path / "styled.mp4"
    run(VideoRequest(clip, style, out, look=Look(strength=0.0)), engine)
    assert probe(out).rotation == 90
    for a, b in zip(decoded_frames(clip), decoded_frames(out), strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 5  # re-encoded, same picture


def test_odd_sizes_and_max_side(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "odd.mov", frames=3, width=63, height=47, audio=False)
    summary, _ = run(VideoRequest(clip, style, tmp_path / "odd-out.mov"), engine)
    assert (probe(summary.written).width, probe(summary.written).height) == (63, 47)
    small = tmp_path / "small.mp4"
    run(
        VideoRequest(make_clip(tmp_path / "c.mp4", 3), style, small, look=Look(max_side=32)), engine
    )
    assert (probe(small).width, probe(small).height) == output_size(probe(tmp_path / "c.mp4"), 32)
    assert probe(small).width == 32 and probe(small).height % 2 == 0


def test_cancel_leaves_no_output_and_no_temp(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "out" / "styled.mp4"
    frames_done = []

    def cancel() -> bool:
        return len(frames_done) >= 2

    events = export_video(VideoRequest(clip, style, out), engine, cancel=cancel)
    for event in events:
        if isinstance(event, FrameDone):
            frames_done.append(event)
    assert len(frames_done) == 2
    assert not out.exists() and leftovers(out.parent) == []


def test_closing_the_job_between_frames_removes_the_temp(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "styled.mp4"
    events = export_video(VideoRequest(clip, style, out), engine)
    for event in events:
        if isinstance(event, FrameDone) and event.done == 2:
            assert len(leftovers(tmp_path)) == 1  # being written under a temporary name
            events.close()  # what the GUI's job runner does on cancel
            break
    assert not out.exists() and leftovers(tmp_path) == []


def test_interrupt_inside_a_frame_leaves_nothing(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "styled.mp4"
    calls = []

    def progress(fraction: float) -> None:
        calls.append(fraction)
        if fraction > 0.4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(VideoRequest(clip, style, out), engine, progress=progress)
    assert calls and not out.exists() and leftovers(tmp_path) == []


def test_target_rules(tmp_path, engine, style) -> None:
    clip = make_clip(tmp_path / "clip.mp4", frames=3, audio=False)
    digest = clip.read_bytes()
    with pytest.raises(StyleStudioError, match="overwrite the original"):
        run(VideoRequest(clip, style, clip, if_exists=IfExists.REPLACE), engine)
    with pytest.raises(VideoError, match=r"saved as \.mp4"):
        run(VideoRequest(clip, style, tmp_path / "frame.png"), engine)
    taken = tmp_path / "styled.mp4"
    taken.write_bytes(b"someone's file")
    summary, _ = run(VideoRequest(clip, style, taken), engine)
    assert (
        summary.written == tmp_path / "styled (2).mp4" and taken.read_bytes() == b"someone's file"
    )
    assert clip.read_bytes() == digest
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(clip.read_bytes()[: len(digest) // 3])
    with pytest.raises(VideoError):
        run(VideoRequest(bad, style, tmp_path / "never.mp4"), engine)
    assert not (tmp_path / "never.mp4").exists() and leftovers(tmp_path) == []


def test_a_region_mask_applies_to_every_frame(tmp_path, engine, style) -> None:
    from stylestudio.core.mask import RegionMask

    clip = make_clip(tmp_path / "clip.mp4", frames=3, audio=False)
    values = np.zeros((48, 64), np.float32)
    values[:, 32:] = 1.0
    out = tmp_path / "masked.mp4"
    mask = RegionMask(values, feather=0.0)
    run(VideoRequest(clip, style, out, mask=mask), engine)
    for a, b in zip(decoded_frames(clip), decoded_frames(out), strict=True):
        left = np.abs(a[:, :28].astype(int) - b[:, :28]).mean()
        right = np.abs(a[:, 36:].astype(int) - b[:, 36:]).mean()
        assert left < 5 < right


def test_video_names_follow_the_photo_vocabulary(tmp_path, style) -> None:
    clip = tmp_path / "holiday.mov"
    assert (
        video_path_for(parse_output(None), clip, style, 1, 1.0) == tmp_path / "holiday-tiny-ink.mov"
    )
    folder = tmp_path / "out"
    folder.mkdir()
    spec = parse_output(str(folder))
    assert video_path_for(spec, clip, style, 1, 1.0) == folder / "holiday-tiny-ink.mov"
    spec = parse_output(str(tmp_path / "{n}-{style}"))
    assert video_path_for(spec, clip, style, 2, 1.0) == tmp_path / "002-Tiny Ink.mov"
    assert video_path_for(parse_output("x.gif"), clip, style, 1, 1.0) == Path("x.gif")
    assert is_video_path("A.MP4") and not is_video_path("a.png")


# -- temporal stability -----------------------------------------------------------------------


def _stylise(engine, style, frames, config: TemporalConfig, options=None):
    from stylestudio.core.engine import StylizeOptions

    stylizer = TemporalStylizer(engine, style.location, options or StylizeOptions(), config)
    return [stylizer(f.astype(np.float32) / 255) for f in frames]


def test_smoothing_with_no_memory_is_exactly_the_per_frame_result(engine, style) -> None:
    from stylestudio.core.engine import StylizeOptions
    from stylestudio.core.engine.stylize import Engine, TilingConfig

    frames = [noisy_still(96, 80, seed=3)(i) for i in range(3)]
    naive = _stylise(engine, style, frames, TemporalConfig(mode=TemporalMode.NAIVE))
    memoryless = TemporalConfig(mode=TemporalMode.NORM, stats_momentum=0.0)
    same = _stylise(engine, style, frames, memoryless)
    for a, b in zip(naive, same, strict=True):
        assert np.abs(a - b).max() < 1e-4
    tiled_engine = Engine(device="cpu", tiling=TilingConfig(min_tile_size=32))
    tiled = StylizeOptions(tile_size=48)
    tiled_naive = _stylise(tiled_engine, style, frames, TemporalConfig(TemporalMode.NAIVE), tiled)
    tiled_same = _stylise(tiled_engine, style, frames, memoryless, tiled)
    for a, b in zip(tiled_naive, tiled_same, strict=True):
        assert np.abs(a - b).max() < 1e-4


def test_smoothing_changes_the_statistics_used(engine, style) -> None:
    picture = noisy_still(64, 48, sigma=0.0)
    frames = [
        np.clip(picture(0).astype(int) + 40 * (i % 2), 0, 255).astype(np.uint8) for i in range(3)
    ]
    naive = _stylise(engine, style, frames, TemporalConfig(mode=TemporalMode.NAIVE))
    smooth = _stylise(engine, style, frames, TemporalConfig(mode=TemporalMode.NORM, cut_error=1.0))
    assert np.abs(naive[0] - smooth[0]).max() < 1e-4  # nothing to average yet
    assert np.abs(naive[1] - smooth[1]).mean() > 1e-3


def test_the_stabiliser_reduces_flicker_on_a_noisy_still(engine, style) -> None:
    picture = noisy_still(96, 72, sigma=4.0, seed=1)
    frames = [picture(i) for i in range(8)]
    naive = _stylise(engine, style, frames, TemporalConfig(mode=TemporalMode.NAIVE))
    stable = _stylise(engine, style, frames, TemporalConfig())
    before, after = flicker(frames, naive), flicker(frames, stable)
    assert before > 0.5
    assert after < 0.75 * before, (before, after)
    # …without drifting away from the style: every frame stays close to its per-frame result.
    assert max(float(np.abs(a - b).mean()) for a, b in zip(naive, stable, strict=True)) < 0.05


def test_a_scene_cut_restarts_the_stabiliser(engine, style) -> None:
    first = noisy_still(64, 48, seed=1)(0)
    second = 255 - first
    stylizer = TemporalStylizer(
        engine, style.location, Look().options(), TemporalConfig(mode=TemporalMode.NORM_FLOW)
    )
    naive = _stylise(engine, style, [second], TemporalConfig(mode=TemporalMode.NAIVE))[0]
    stylizer(first.astype(np.float32) / 255)
    after_cut = stylizer(second.astype(np.float32) / 255)
    assert stylizer.cuts == 1 and np.abs(after_cut - naive).max() < 1e-4


def test_flow_follows_a_shift() -> None:
    import torch

    from stylestudio.core.video.flow import estimate_flow, warp

    y, x = torch.meshgrid(torch.arange(96.0), torch.arange(128.0), indexing="ij")
    previous = (0.5 + 0.25 * torch.sin(x / 5) * torch.cos(y / 7))[None, None]
    true = torch.zeros(1, 2, 96, 128)
    true[:, 0], true[:, 1] = 2.5, -1.25
    current = warp(previous, true)
    flow = estimate_flow(current, previous)[..., 12:-12, 12:-12]
    assert abs(float(flow[:, 0].mean()) - 2.5) < 0.1 and abs(float(flow[:, 1].mean()) + 1.25) < 0.1


def test_flicker_meter_counts_still_pixels_only() -> None:
    still = np.full((4, 4, 3), 0.5, np.float32)
    moved = still.copy()
    moved[:2] = 0.9  # half the input changes a lot
    out_a = np.zeros_like(still)
    out_b = np.zeros_like(still)
    out_b[2:] = 10 / 255  # the output changes by 10 levels on the still half
    out_b[:2] = 1.0  # and a lot on the moving half, which does not count
    meter = FlickerMeter()
    meter.add(still, out_a)
    meter.add(moved, out_b)
    assert meter.pairs == 1 and meter.still_fraction == 0.5
    assert meter.value == pytest.approx(10.0, abs=1e-3)
    assert flicker([still, still], [out_a, out_a]) == 0.0


# -- the CLI ----------------------------------------------------------------------------------


def test_cli_stylizes_a_clip(tmp_path, style, capsys) -> None:
    from stylestudio.cli.main import main

    clip = make_clip(tmp_path / "clip.mp4", frames=4)
    out = tmp_path / "out.mp4"
    assert main(["stylize", str(clip), "-s", str(style.location), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "4 frames at 12 fps" in err and "Done: 1 of 1 video(s) stylised." in err
    assert probe(out).frame_count == 4 and audio_payloads(out) == audio_payloads(clip)


def test_cli_reports_bad_videos_in_one_line(tmp_path, style, capsys) -> None:
    from stylestudio.cli.main import main

    bad = tmp_path / "broken.mov"
    bad.write_bytes(os.urandom(2000))
    assert main(["stylize", str(bad), "-s", str(style.location)]) == 1
    err = capsys.readouterr().err
    assert "broken.mov is not a readable video" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mov"]
    clip = make_clip(tmp_path / "clip.mp4", frames=2, audio=False)
    assert main(["stylize", str(clip), "-s", str(style.location), "--format", "png"]) == 1
    assert "--format is for photos" in capsys.readouterr().err


def test_cli_interrupt_leaves_no_partial_file(tmp_path, style, monkeypatch) -> None:
    from stylestudio.cli import stylize_video
    from stylestudio.core.engine import Engine

    clip = make_clip(tmp_path / "clip.mp4", frames=6)
    out = tmp_path / "out.mp4"

    class Interrupting(Engine):
        runs = 0

        def run_network(self, *args, **kwargs):
            Interrupting.runs += 1
            if Interrupting.runs == 3:
                raise KeyboardInterrupt
            return super().run_network(*args, **kwargs)

    request = VideoRequest(clip, style, out)
    with pytest.raises(KeyboardInterrupt):
        stylize_video.stylize_video(request, Interrupting(device="cpu"), "[1/1] clip.mp4")
    assert not out.exists() and leftovers(tmp_path) == []


@pytest.mark.slow
def test_bench_video_prints_both_clips_speeds_and_a_strip(tmp_path, style, capsys) -> None:
    import json

    from PIL import Image

    from stylestudio.cli.main import main

    strip, record = tmp_path / "strip.png", tmp_path / "bench.json"
    argv = ["bench", "video", "-s", str(style.location), "--size", "64x40", "--frames", "5"]
    argv += ["--speed-sizes", "48x32", "--speed-frames", "1", "--strip", str(strip)]
    assert main([*argv, "--json", str(record)]) == 0
    out = capsys.readouterr().out
    assert "still clip" in out and "pan/zoom clip" in out and "norm+flow" in out
    assert "48×32 naive" in out and "load average" in out
    numbers = json.loads(record.read_text())
    still = numbers["flicker"]["still"]
    assert still["norm+flow"]["flicker"] < still["naive"]["flicker"]
    assert still["naive"]["deviation"] == 0.0 and {s["mode"] for s in numbers["speed"]} == {
        "naive",
        "norm+flow",
    }
    with Image.open(strip) as image:  # 4 frames wide; input + 2 modes × (output, change) rows
        assert image.size == (4 * 64, 5 * 40 + 4 * 4)
    assert (tmp_path / "strip-pan.png").is_file()
