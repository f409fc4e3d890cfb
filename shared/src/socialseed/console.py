"""Command-line manners: progress of long work (a first-run download, an install, a
re-encryption) and the commands' help.

On a terminal, a live line drawn by rich: a spinner (or a bar when the total is known), what
is happening, counts and elapsed time, replaced by one closing line when the step ends. Anywhere
else (CI logs, pipes, files) plain lines only: one when the step starts, one when it ends, with
no cursor movement or colour codes for a log to choke on. Progress goes to stderr; stdout stays
for a command's results.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text


def interactive(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can redraw a line (not a pipe, file or dumb tty)."""
    console = Console(file=stream)
    return console.is_terminal and not console.is_dumb_terminal


class Step:
    """One piece of work under way; ``update`` it as it goes."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        self.note = ""
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def update(
        self,
        *,
        completed: int | None = None,
        advance: int = 0,
        total: int | None = None,
        note: str | None = None,
    ) -> None:
        """Set or advance the count, the total once known, or a short note (what it is on)."""
        if total is not None:
            self.total = total
        if completed is not None:
            self.completed = completed
        self.completed += advance
        if note is not None:
            self.note = note
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task,
                completed=self.completed,
                total=self.total,
                note=self.note,
                open=self.total is None,
                count=self.completed,
            )

    def summary(self) -> str:
        if self.total is not None:
            return f"{self.completed} of {self.total}"
        return str(self.completed) if self.completed else ""


class _Count(ProgressColumn):
    """``done/total`` once the total is known, else the count so far (if any)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("open") or task.total is None:
            count = task.fields.get("count", 0)
            return Text(str(count) if count else "", style="green")
        return Text(f"{int(task.completed)}/{int(task.total)}", style="green")


@contextmanager
def step(
    description: str, *, total: int | None = None, stream: TextIO | None = None
) -> Iterator[Step]:
    """Report ``description`` while the block runs (see the module's docstring)."""
    out = stream if stream is not None else sys.stderr
    work = Step(description, total)
    t0 = time.monotonic()
    if not interactive(out):
        print(f"{description} ...", file=out, flush=True)
        try:
            yield work
        except BaseException:
            print(f"{description}: failed after {time.monotonic() - t0:.1f}s", file=out, flush=True)
            raise
        done = ", ".join(x for x in (work.summary(), f"{time.monotonic() - t0:.1f}s") if x)
        print(f"{description}: done ({done})", file=out, flush=True)
        return
    console = Console(file=out)
    columns = [
        SpinnerColumn(finished_text="[green]✓"),
        TextColumn("{task.description}"),
        BarColumn(),  # pulses until a total is known
        _Count(),
        TextColumn("[dim]{task.fields[note]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False) as progress:
        work._progress = progress
        work._task = progress.add_task(
            description, total=total, note="", open=total is None, count=0
        )
        try:
            yield work
        except BaseException:
            progress.update(work._task, description=f"[red]✗ {description} failed")
            progress.stop_task(work._task)
            raise
        finally:
            work._progress = None
        # Finished: the spinner turns into a tick (a task is finished at its total); the count
        # shown stays the one counted.
        end = work.total if work.total is not None else max(work.completed, 1)
        progress.update(work._task, total=end, completed=end, note="")


class CommandHelp(argparse.HelpFormatter):
    """argparse's own help, each command's one-line help beside its name: argparse measures
    a subcommand's name without the indent it prints it with, so a long name (``events-docs``)
    would push its help onto a line of its own."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def add_argument(self, action: argparse.Action) -> None:
        super().add_argument(action)
        if isinstance(action, argparse._SubParsersAction):
            self._action_max_length += self._indent_increment
