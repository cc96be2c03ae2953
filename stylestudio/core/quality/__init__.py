"""Quality benchmark: style / content / patch metrics and reference methods (Gatys, Magenta).

``metrics`` defines the measurements (see its docstring); ``benchmark`` runs methods side by side
(``QualityBench``, ``evaluate_style``, ``score_outputs``); ``report`` and ``contact_sheet`` turn
the results into a table, Markdown and a PNG. Names are loaded on first use (torch is heavy).
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "BenchConfig": "benchmark",
    "QualityBench": "benchmark",
    "QualityReport": "benchmark",
    "evaluate_style": "benchmark",
    "score_outputs": "benchmark",
    "GatysConfig": "gatys",
    "GatysOptimizer": "gatys",
    "gatys_transfer": "gatys",
    "MagentaModels": "magenta",
    "load_magenta": "magenta",
    "MetricConfig": "metrics",
    "QualityMetrics": "metrics",
    "Scores": "metrics",
    "QualityBenchError": "images",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)
