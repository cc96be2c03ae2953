"""The training wizard ("Learn a New Style…") and the controller that runs training on a QThread.

The main window shows its menu entry when this package exists and opens
``TrainingWizard(parent, library, open_photos)``; ``styleCreated(style_id)`` fires when the new
style is in the library. ``wizard.controller`` (a ``TrainingController``) reports a run that goes on
after the window was closed.
"""

from __future__ import annotations

from stylestudio.gui.wizard.controller import TrainingController, TrainingState
from stylestudio.gui.wizard.options import WizardOptions
from stylestudio.gui.wizard.wizard import TrainingWizard

__all__ = ["TrainingController", "TrainingState", "TrainingWizard", "WizardOptions"]
