"""Progress of a long command on standard error: a bar redrawn in place on a terminal,
a plain line every few seconds when the output goes to a log or a pipe.

Both show the same figures: how far (of the total, when known), the rate and the time
left. Standard output is left alone, so ``--json`` prints exactly what it did.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from ogcrm.progress import Progress, Tick

#: Seconds between two lines when not on a terminal (a log gets a line, not a flood).
LINE_EVERY = 5.0
#: Seconds between two redraws of the bar on a terminal.
REDRAW_EVERY = 0.1
BAR_WIDTH = 24


class _Display:
    """Draws ticks for one label; a new ``step`` starts its clock and line afresh."""

    def __init__(self, label: str, out: TextIO, tty: bool, clock: Callable[[], float]) -> None:
        self.label, self.out, self.tty, self.clock = label, out, tty, clock
        self.step: str | None = None
        self.started = clock()  # the first step's clock runs from the start
        self.drawn_at: float | None = None  # None: nothing of this step drawn yet
        self.pending: Tick | None = None  # the newest tick, when not drawn

    def __call__(self, tick: Tick) -> None:
        now = self.clock()
        # a rescore's steps are the units of one bar; another step is another bar
        step = "" if tick.unit == "steps" else tick.step
        if step != self.step:
            if self.step is not None:
                self.finish()
                self.started = now
            self.step = step
        finished = tick.total is not None and tick.done >= tick.total
        every = REDRAW_EVERY if self.tty else LINE_EVERY
        if finished or self.drawn_at is None or now - self.drawn_at >= every:
            self._draw(tick, now)
        else:
            self.pending = tick

    def finish(self) -> None:
        """Draw the step's newest tick if it was not, and end its line."""
        if self.pending is not None:
            self._draw(self.pending, self.clock())
        if self.tty and self.drawn_at is not None:
            self.out.write("\n")
            self.out.flush()
        self.drawn_at = None

    def _draw(self, tick: Tick, now: float) -> None:
        text = line(self.label, tick, now - self.started)
        self.out.write("\r\x1b[2K" + text if self.tty else text + "\n")
        self.out.flush()
        self.drawn_at, self.pending = now, None


def line(label: str, tick: Tick, elapsed: float) -> str:
    """One display line: ``label [bar] 45%, 51.2 of 112.7 MB, 9.8 MB/s, 6 s left``.

    Steps (a rescore's few set-based statements) are unequal in cost, so they show which
    one is running but neither a rate nor a time left, which would be made up.
    """
    step = tick.step if tick.unit != "steps" else ""
    head = " ".join(p for p in (label, step, tick.detail and f"({tick.detail})") if p)
    figures: list[str] = []
    if tick.total:
        share = min(tick.done / tick.total, 1.0)
        filled = round(share * BAR_WIDTH)
        head += f" [{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {share:4.0%}"
    if tick.unit == "steps":
        if tick.total and tick.done >= tick.total:
            figures.append(f"{tick.total} steps, done")
        elif tick.total:
            figures.append(f"step {tick.done + 1} of {tick.total}: {tick.step}")
        else:
            figures.append(tick.step)
        if tick.rows:
            figures.append(f"{tick.rows:,} rows")
        return ", ".join([head, *figures])
    if tick.total:
        figures.append(_of(tick.done, tick.total, tick.unit))
    else:
        figures.append(_amount(tick.done, tick.unit))
    if tick.rows and tick.unit != "rows":
        figures.append(f"{tick.rows:,} rows")
    rate = tick.done / elapsed if elapsed > 0 else 0.0
    if rate > 0:
        figures.append(f"{_amount(rate, tick.unit)}/s")
    if tick.total and tick.done >= tick.total:
        figures.append("done")
    elif tick.total and rate > 0:
        figures.append(f"{_duration((tick.total - tick.done) / rate)} left")
    return ", ".join([head, *figures])


def _of(done: int, total: int, unit: str) -> str:
    if unit == "bytes":
        scale, name = _byte_unit(total)
        return f"{done / scale:,.1f} of {total / scale:,.1f} {name}"
    return f"{done:,} of {total:,} {unit}"


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        scale, name = _byte_unit(value)
        return f"{value / scale:,.1f} {name}"
    return f"{value:,.0f} {unit}"


def _byte_unit(value: float) -> tuple[float, str]:
    for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if value >= scale:
            return scale, name
    return 1.0, "bytes"


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s"


@contextmanager
def meter(
    label: str,
    *,
    out: TextIO | None = None,
    tty: bool | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Progress]:
    """A :data:`~ogcrm.progress.Progress` drawing on ``out`` (standard error) for the
    duration of the block; ``tty`` (found from ``out`` by default) picks bar or lines."""
    out = out or sys.stderr
    display = _Display(label, out, out.isatty() if tty is None else tty, clock)
    try:
        yield display
    finally:
        display.finish()
