"""``time.monotonic()`` as on a machine booted a given number of seconds ago.

``time.monotonic()`` counts from an arbitrary origin (boot, on Linux), so code that compares
it with a 0.0 start ("never") behaves differently on a freshly booted machine. Tests install
this clock to prove that nothing does.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def shifted(seconds: float, real: Callable[[], float] = time.monotonic) -> Callable[[], float]:
    """A monotonic clock that reads ``seconds`` now and keeps ticking with the real one."""
    origin = real()

    def monotonic() -> float:
        return real() - origin + seconds

    return monotonic


def booted_ago(seconds: float) -> None:
    """Install the shifted clock for the whole process (subprocesses under test use this)."""
    time.monotonic = shifted(seconds)
