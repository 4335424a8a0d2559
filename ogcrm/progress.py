"""How far a long operation has got, told by the code doing it to whoever shows it.

A service that reads a file, merges staged rows or rescores organizations calls a
:data:`Progress` with a :class:`Tick` now and then; the command line draws the ticks
(a bar on a terminal, periodic lines in a log), a job publishes them as events. The
service never knows which, so this module is the whole contract between them: pure,
on the bottom floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Tick:
    """``done`` of ``total`` ``unit`` so far (``total`` None while unknown).

    ``unit`` is what the bar counts: ``"bytes"`` of a file read, ``"rows"`` merged,
    ``"steps"`` of work that runs as a few set-based statements (a rescore), where a
    count inside a statement cannot be had. ``rows`` is the records handled so far,
    whatever the unit (what events report); ``step`` names the phase a tick belongs to,
    so that one display can follow an import that goes on to merge.
    """

    done: int
    total: int | None
    unit: str
    rows: int = 0
    step: str = ""
    #: what the steps are about, for the label ("1,000,000 organizations")
    detail: str = ""


Progress = Callable[[Tick], None]
