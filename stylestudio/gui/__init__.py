"""The PySide6 desktop interface.

Modules here import Qt, numpy and the Qt-free light core (imageio, adjust) only. Torch and the
heavy core (engine, stylepack, library) are imported inside the worker thread, so the first window
appears before torch has finished importing.
"""

from stylestudio.gui import pyside_fixes as _pyside_fixes

_pyside_fixes.apply()  # must run before the first Qt call of a long session (see the module)
