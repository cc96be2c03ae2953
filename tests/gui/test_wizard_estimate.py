"""The settings page shows the estimate's whole wait (setup, steps, previews, checkpoints,
saving) for the chosen settings, and measures with the run's own inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylestudio.core.training.estimate import Estimate

pytestmark = pytest.mark.gui

TIMEOUT = 60_000


def _photo(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((96, 128, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_settings_page_shows_the_total_with_setup_for_the_chosen_steps(qtbot, tmp_path):
    from stylestudio.core.library import StyleLibrary
    from stylestudio.gui import runner
    from stylestudio.gui.wizard import TrainingWizard, WizardOptions

    calls = []

    def fake_estimate(config, device, inputs):
        calls.append(inputs)
        # Ten minutes of setup and one second a step: the steps alone would be "5 minutes".
        return Estimate(1.0, 0.0, config.steps, "CPU", 1.0, 1.0, setup_s=600.0, finish_s=1.0)

    library = StyleLibrary(user_dir=tmp_path / "user", builtin_dir=tmp_path / "none")
    painting = _photo(tmp_path / "painting.png", 1)
    options = WizardOptions(device="cpu", estimator=fake_estimate, use_tray=False)
    wizard = TrainingWizard(None, library, [], options=options)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.style_page.add_paths([painting])
    qtbot.waitUntil(lambda: wizard.style_page.pending == 0, timeout=TIMEOUT)

    settings = wizard.settings_page
    settings.choose_preset("quick")
    settings.fields["steps"].setValue(300)
    settings.initializePage()
    qtbot.waitUntil(lambda: "Estimated" in settings.estimate_label.text(), timeout=TIMEOUT)
    # 600 s setup + 300 steps + 12 previews at 0 s + 1 s saving: 15 minutes, not 5.
    assert settings.estimate_label.text().endswith("about 15 minutes")
    assert calls[-1].style_images == (painting,) and calls[-1].library is library

    count = len(calls)
    settings.fields["steps"].setValue(900)  # the same costs: no new measurement
    qtbot.waitUntil(lambda: "25 minutes" in settings.estimate_label.text(), timeout=TIMEOUT)
    assert len(calls) == count
    assert runner.wait_for_jobs(TIMEOUT)
