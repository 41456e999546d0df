"""What a batch predict shows: a progress bar (cases, and the slices of the case at work) on stderr while it
runs, and a summary table on stdout at the end. Both are rich's (docs/decisions/212).

Our log lines (a case that failed, a series with gaps) print above the bar, not through it: while the bar
runs, the terminal's log handler writes through rich's console.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from core.commands.predict_batch import CaseOutcome


class BatchProgress:
    """The bar of a batch: `start_case(name)` before each case, `slices(step, total, message)` as it goes,
    `case_done()` after it."""

    def __init__(self, bar: Progress, cases: int) -> None:
        self._bar = bar
        self._cases = bar.add_task("cases", total=cases)
        self._slices = bar.add_task("", total=None, visible=False)

    def start_case(self, name: str) -> None:
        self._bar.update(self._slices, description=f"  {name}", completed=0, total=None, visible=True)

    def slices(self, step: int, total: int, message: str = "") -> None:
        self._bar.update(self._slices, completed=step, total=total)

    def case_done(self) -> None:
        self._bar.advance(self._cases)


@contextlib.contextmanager
def batch_progress(cases: int) -> Iterator[BatchProgress]:
    """A live progress bar on stderr for `cases` cases (drawn once at the end when stderr is not a terminal)."""
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=Console(file=sys.stderr), redirect_stdout=False)
    with bar, _logging_through(bar.console):
        yield BatchProgress(bar, cases)


@contextlib.contextmanager
def _logging_through(console: Console) -> Iterator[None]:
    """Terminal log handlers write through `console` (above the live bar) while the bar runs."""
    handlers = [h for h in logging.getLogger().handlers
                if type(h) is logging.StreamHandler and h.stream in (sys.stderr, sys.__stderr__)]
    previous = [h.setStream(console.file) for h in handlers]
    try:
        yield
    finally:
        for handler, stream in zip(handlers, previous):
            handler.setStream(stream)


def summary_table(outcomes: list[CaseOutcome]) -> Table:
    """One row per case: what became of it, how many slices, with mandible, how long, and why it failed."""
    table = Table(title="predict: summary", show_lines=False)
    for name, justify in (("case", "left"), ("result", "left"), ("slices", "right"), ("mandible on", "right"),
                          ("time", "right"), ("note", "left")):
        table.add_column(name, justify=justify, overflow="fold")
    for outcome in outcomes:
        worked = outcome.status == "done"
        table.add_row(outcome.case.name, outcome.status, str(outcome.slices) if worked else "",
                      str(outcome.with_mandible) if worked else "", f"{outcome.seconds:.1f} s" if worked else "",
                      outcome.message)
    return table


def counts_line(outcomes: list[CaseOutcome]) -> str:
    """"4 done, 0 skipped, 1 failed (corrupt)": the last line of the output, for a person or a script."""
    failed = [o.case.name for o in outcomes if o.status == "failed"]
    done = sum(o.status == "done" for o in outcomes)
    skipped = sum(o.status == "skipped" for o in outcomes)
    return f"{done} done, {skipped} skipped (done before), {len(failed)} failed" + (
        f": {', '.join(failed)}" if failed else "")


def print_summary(outcomes: list[CaseOutcome]) -> None:
    console = Console(file=sys.stdout, width=max(100, Console(file=sys.stdout).width))
    console.print(summary_table(outcomes))
    console.print(counts_line(outcomes), highlight=False, soft_wrap=True)
