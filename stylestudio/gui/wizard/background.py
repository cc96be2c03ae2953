"""Running one slow call (image checks, time estimates) off the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from stylestudio.core.errors import StyleStudioError

log = logging.getLogger(__name__)


class BackgroundCall(QThread):
    """Calls ``function()`` on its own thread; ``succeeded(result)`` or ``failed(message)``.

    Both signals are delivered queued on the thread that created the call (the GUI thread).
    A ``StyleStudioError`` becomes its one-sentence message; anything else is logged as a bug and
    reported with its text, so a failed check never takes the application down.
    """

    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, function: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._function = function

    def run(self) -> None:
        try:
            result = self._function()
        except StyleStudioError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("background call failed")
            self.failed.emit(str(exc) or type(exc).__name__)
        else:
            self.succeeded.emit(result)


#: Calls still running. They have no Qt parent, so closing a page or the wizard never destroys a
#: running thread (which would abort the process); they delete themselves when done.
_RUNNING: set[BackgroundCall] = set()


def start_call(
    function: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[str], None],
) -> BackgroundCall:
    """Start ``function`` in a self-deleting ``BackgroundCall``.

    Connect bound methods of QObjects: Qt drops those connections when the receiver is deleted.
    """
    call = BackgroundCall(function)
    call.succeeded.connect(on_success)
    call.failed.connect(on_failure)
    _RUNNING.add(call)

    def done() -> None:
        _RUNNING.discard(call)
        call.deleteLater()

    call.finished.connect(done)
    call.start()
    return call


def running_calls() -> int:
    return len(_RUNNING)


def wait_for_calls(timeout_ms: int) -> bool:
    """Wait for every running call (at most ``timeout_ms`` each); True when all stopped."""
    return all(call.wait(timeout_ms) for call in list(_RUNNING))
