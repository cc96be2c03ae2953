"""Where StyleStudio reads resources and writes user data.

The app writes only to per-user folders (platformdirs). Resources (built-in styles, samples,
translations, icons) are read from the source tree, or from PyInstaller's bundle when frozen.
Environment overrides exist for tests and portable installs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "StyleStudio"
APP_AUTHOR = "StyleStudio"

ENV_DATA_DIR = "STYLESTUDIO_DATA_DIR"
ENV_CACHE_DIR = "STYLESTUDIO_CACHE_DIR"
ENV_RESOURCES_DIR = "STYLESTUDIO_RESOURCES_DIR"
ENV_SHARED_DATA = "STYLESTUDIO_SHARED_DATA"


def resources_dir() -> Path:
    """The read-only ``resources/`` folder (source checkout or frozen bundle)."""
    override = os.environ.get(ENV_RESOURCES_DIR)
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def builtin_styles_dir() -> Path:
    return resources_dir() / "styles"


def base_model_dir() -> Path:
    """The base model new styles start from (see ``core.training.base_model``)."""
    return resources_dir() / "base"


def sample_images_dir() -> Path:
    return resources_dir() / "samples"


def user_data_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def user_styles_dir() -> Path:
    return user_data_dir() / "styles"


def user_cache_dir() -> Path:
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR))


def user_log_dir() -> Path:
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override) / "logs"
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))


def shared_data_dir() -> Path | None:
    """Optional developer data (VGG weights, paintings, photos): ``$STYLESTUDIO_SHARED_DATA``.

    Used by tests, benchmarks and training scripts only; the app never needs it.
    """
    value = os.environ.get(ENV_SHARED_DATA)
    if value and Path(value).is_dir():
        return Path(value)
    return None
