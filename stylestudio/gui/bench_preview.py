"""Benchmark of the live preview: ``python -m stylestudio.gui.bench_preview``.

Measures, through the real main window and worker thread:

* latency from a settings change to the repainted preview (p50 / p95) for a 12 MP photo:
  style-scale changes (network re-run: quick low-resolution stage and final stage) and strength
  changes (re-blend of the cached output, no network);
* event-loop responsiveness while the engine runs: the largest delay of a 10 ms QTimer tick.

Uses the first built-in style, or a random-initialised default-size generator when none exists.
Runs offscreen unless a display is available.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Series:
    name: str
    samples_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        if not self.samples_ms:
            return {"n": 0}
        ordered = sorted(self.samples_ms)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return {
            "n": len(ordered),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(p95, 1),
            "max_ms": round(ordered[-1], 1),
        }


@dataclass
class BenchReport:
    device: str
    photo: str
    style: str
    display_side: int
    first_preview_ms: float
    first_final_ms: float
    results: dict[str, dict[str, float]]
    max_timer_stall_ms: float
    timer_ticks: int


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m stylestudio.gui.bench_preview")
    parser.add_argument("--size", default="4000x3000", help="photo size WxH (default 12 MP)")
    parser.add_argument("--runs", type=int, default=6, help="measured changes per kind")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda, mps")
    parser.add_argument("--style", type=Path, default=None, help="a style folder to use")
    parser.add_argument("--output-size", choices=("preview", "full"), default="preview")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    return parser.parse_args(argv)


def _make_photo(folder: Path, width: int, height: int) -> Path:
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack(
        [
            0.5 + 0.5 * np.sin(x / 97.0) * np.cos(y / 131.0),
            (x / width) * 0.8 + 0.1,
            0.5 + 0.4 * np.sin((x + 2 * y) / 53.0),
        ],
        axis=-1,
    )
    rgb += np.random.default_rng(0).normal(0, 0.04, rgb.shape).astype(np.float32)
    path = folder / f"bench-{width}x{height}.jpg"
    Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).save(path, quality=92)
    return path


def _style_dirs(tmp: Path, explicit: Path | None) -> tuple[Path, str]:
    """(builtin dir for the window, description of the style used)."""
    from stylestudio.core.paths import builtin_styles_dir

    if explicit is not None:
        return explicit.parent, explicit.name
    shipped = builtin_styles_dir()
    if shipped.is_dir() and any((p / "style.json").is_file() for p in shipped.iterdir()):
        return shipped, "first built-in style"
    import torch

    from stylestudio.core.library import StyleLibrary
    from stylestudio.core.models.generator import ARCHITECTURE_NAME, Generator, GeneratorConfig

    torch.manual_seed(0)
    config = GeneratorConfig()
    folder = tmp / "styles"
    StyleLibrary(user_dir=folder, builtin_dir=tmp / "none").add(
        "Random default generator",
        Generator(config).state_dict(),
        architecture=ARCHITECTURE_NAME,
        params=config.to_dict(),
    )
    return folder, f"random-init Generator{config.to_dict()}"


def run(argv: list[str] | None = None) -> BenchReport:
    args = _parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    width, height = (int(v) for v in args.size.lower().split("x"))
    tmp = Path(tempfile.mkdtemp(prefix="stylestudio-bench-"))
    os.environ["STYLESTUDIO_DATA_DIR"] = str(tmp / "data")
    os.environ["STYLESTUDIO_CACHE_DIR"] = str(tmp / "cache")

    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "qs"))
    from stylestudio.gui.app import create_application
    from stylestudio.gui.main_window import MainWindow
    from stylestudio.gui.worker import WorkerConfig

    app = create_application([sys.argv[0]])
    photo = _make_photo(tmp, width, height)
    builtin, style_desc = _style_dirs(tmp, args.style)
    window = MainWindow(
        WorkerConfig(builtin_dir=builtin, user_dir=tmp / "user", device=args.device),
        start_engine=False,
    )
    try:
        return _measure(args, window, photo, style_desc, width, height)
    finally:
        window.close()
        window.shutdown()
        del app


def _measure(args, window, photo: Path, style_desc: str, width: int, height: int) -> BenchReport:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from stylestudio.gui.adjuster import AdjustResult
    from stylestudio.gui.messages import PreviewResult

    window.resize(1600, 1000)
    window.show()
    window.panel.output.setCurrentIndex(window.panel.output.findData(args.output_size))

    clock = QElapsedTimer()
    clock.start()
    events: list[tuple[float, object]] = []

    def painted(result: object) -> None:
        window.canvas.viewport().repaint()  # "repainted" means on screen, not just scheduled
        events.append((clock.nsecsElapsed() / 1e6, result))

    window.previewShown.connect(painted)

    # Event-loop responsiveness: a 10 ms timer; record the worst lateness.
    ticks: list[float] = []
    ticker = QTimer()
    ticker.setInterval(10)
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(lambda: ticks.append(clock.nsecsElapsed() / 1e6))

    def wait_for(predicate, timeout_s: float = 600.0) -> None:
        deadline = time.monotonic() + timeout_s
        loop = QEventLoop()
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("benchmark step timed out")
            loop.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)

    ready: list[str] = []
    window.engineReady.connect(ready.append)
    window.client.worker.engineFailed.connect(lambda msg: ready.append("FAILED: " + msg))
    window.start_engine()
    wait_for(lambda: bool(ready) and bool(window.gallery.cards()))
    if ready[0].startswith("FAILED"):
        raise SystemExit(ready[0])
    window.open_paths([photo])
    start = clock.nsecsElapsed() / 1e6
    window.gallery.select_style(window.gallery.cards()[0].id)

    def final_for(scale: float) -> bool:
        return any(
            isinstance(r, PreviewResult) and r.final and r.adjustments.style_scale == scale
            for _t, r in events
        )

    wait_for(lambda: final_for(window.adjustments().style_scale))
    first_quick = next(t for t, r in events if isinstance(r, PreviewResult)) - start
    first_final = next(t for t, r in events if isinstance(r, PreviewResult) and r.final) - start

    quick, final, blend = Series("quick"), Series("final"), Series("blend")
    keep_first, keep_final = Series("keep colours first"), Series("keep colours final")
    ticker.start()
    for i in range(args.runs):
        events.clear()
        scale = 125 if i % 2 == 0 else 100
        t0 = clock.nsecsElapsed() / 1e6
        window.panel.scale.setValue(scale)
        wait_for(lambda s=scale: final_for(s / 100))
        stages = [(t, r) for t, r in events if isinstance(r, PreviewResult)]
        if stages and stages[0][1].stage == 1:
            quick.samples_ms.append(stages[0][0] - t0)
        final.samples_ms.append(stages[-1][0] - t0)
    for i in range(args.runs):
        events.clear()
        value = 60 if i % 2 == 0 else 85
        t0 = clock.nsecsElapsed() / 1e6
        window.panel.strength.setValue(value)
        wait_for(lambda: any(isinstance(r, AdjustResult) and r.final for _t, r in events))
        blend.samples_ms.append(next(t for t, r in events if isinstance(r, AdjustResult)) - t0)
    for _ in range(args.runs):
        events.clear()
        t0 = clock.nsecsElapsed() / 1e6
        window.panel.preserve.toggle()
        wait_for(lambda: any(isinstance(r, AdjustResult) and r.final for _t, r in events))
        adjusted = [t for t, r in events if isinstance(r, AdjustResult)]
        keep_first.samples_ms.append(adjusted[0] - t0)
        keep_final.samples_ms.append(adjusted[-1] - t0)
    ticker.stop()
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    stall = max(gaps) - 10.0 if gaps else 0.0
    last = window.last_result()
    report = BenchReport(
        device=window.device_label.text(),
        photo=f"{width}x{height}",
        style=style_desc,
        display_side=window.display_side(),
        first_preview_ms=round(first_quick, 1),
        first_final_ms=round(first_final, 1),
        results={
            "restyle_quick_stage (max_side 512)": quick.summary(),
            f"restyle_final_stage ({last.size[0]}x{last.size[1]})" if last else "final": (
                final.summary()
            ),
            "strength_reblend (no network)": blend.summary(),
            "preserve_colours_toggle first paint": keep_first.summary(),
            "preserve_colours_toggle final": keep_final.summary(),
        },
        max_timer_stall_ms=round(max(stall, 0.0), 1),
        timer_ticks=len(ticks),
    )
    return report


def main(argv: list[str] | None = None) -> int:
    report = run(argv)
    print(f"device: {report.device}   photo: {report.photo}   style: {report.style}")
    print(f"first preview (incl. decode + model load): {report.first_preview_ms:.0f} ms, "
          f"first final: {report.first_final_ms:.0f} ms")  # fmt: skip
    for name, stats in report.results.items():
        if stats.get("n"):
            print(
                f"{name:45s} p50 {stats['p50_ms']:8.1f} ms   p95 {stats['p95_ms']:8.1f} ms"
                f"   (n={stats['n']})"
            )
    print(
        f"event loop: max stall of a 10 ms timer while the engine runs: "
        f"{report.max_timer_stall_ms:.1f} ms ({report.timer_ticks} ticks)"
    )
    args = _parse_args(argv)
    if args.json:
        args.json.write_text(json.dumps(asdict(report), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
