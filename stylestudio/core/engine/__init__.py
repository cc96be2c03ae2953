"""Inference engine: device choice, tiling with whole-image statistics, stylisation.

Import the submodules (``engine.stylize``, ``engine.device``, ``engine.tiling``) directly; this
package re-exports the main names lazily so that ``import stylestudio.core.engine`` stays cheap.
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "select_device": "device",
    "describe_device": "device",
    "Engine": "stylize",
    "StylizeOptions": "stylize",
    "StylizeResult": "stylize",
    "TilingConfig": "stylize",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
