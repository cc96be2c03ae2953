"""Errors that carry a message meant for the user.

Every failure the user can cause or fix (a bad file, missing weights, a full disk) is raised as a
``StyleStudioError`` subclass whose ``str()`` is one readable sentence; the CLI prints it on one
line and the GUI shows it in a dialog. Anything else is a bug.
"""

from __future__ import annotations


class StyleStudioError(Exception):
    """Base class for errors with a user-facing message."""


class ImageLoadError(StyleStudioError):
    """An input file is not a readable image (corrupt, empty, not an image, too large)."""


class ImageSaveError(StyleStudioError):
    """An output could not be written (disk full, permission, would overwrite the input)."""


class StyleFormatError(StyleStudioError):
    """A style folder or .stylepack is invalid, unsafe or of an unknown architecture."""


class StyleNotFoundError(StyleStudioError):
    """No style with the requested id or name exists in the library."""


class StyleLibraryError(StyleStudioError):
    """A library operation was refused (e.g. deleting a built-in style)."""


class WeightsUnavailableError(StyleStudioError):
    """Pretrained VGG weights are needed but none could be found or downloaded."""


class CancelledError(StyleStudioError):
    """The user cancelled a running job."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


class TrainingError(StyleStudioError):
    """Training inputs or settings are invalid."""
