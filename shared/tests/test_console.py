"""Command-line manners: progress drawn live on a terminal and as plain lines elsewhere, and
every command listed with its one-line help."""

from __future__ import annotations

import argparse
import io
import os
import re
import select
import subprocess
import sys

from socialseed.console import step
from socialseed.devstack.procs import apt_status

ANSI = re.compile(r"\x1b\[")


def _drain(fd: int) -> str:
    out = b""
    while select.select([fd], [], [], 0.2)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        out += chunk
    return out.decode(errors="replace")


def test_on_a_terminal_progress_is_redrawn_in_place_with_a_bar() -> None:
    master, replica = os.openpty()
    tty = os.fdopen(replica, "w")
    try:
        with step("re-encrypting tokens", total=3, stream=tty) as progress:
            for _ in range(3):
                progress.update(advance=1, note="batch")
        tty.flush()
        shown = _drain(master)
    finally:
        tty.close()
        os.close(master)
    assert ANSI.search(shown) and "\r" in shown  # drawn and redrawn on one line
    assert "re-encrypting tokens" in shown and "3/3" in shown and "✓" in shown


def test_elsewhere_progress_is_two_plain_lines() -> None:
    log = io.StringIO()
    with step("re-encrypting tokens", total=3, stream=log) as progress:
        for _ in range(3):
            progress.update(advance=1, note="batch")
    lines = log.getvalue().splitlines()
    assert not ANSI.search(log.getvalue()) and "\r" not in log.getvalue()
    assert lines[0] == "re-encrypting tokens ..."
    assert re.fullmatch(r"re-encrypting tokens: done \(3 of 3, \d+\.\ds\)", lines[1]), lines
    assert len(lines) == 2


def test_a_failed_step_says_so_in_plain_lines() -> None:
    log = io.StringIO()
    try:
        with step("fetching", stream=log):
            raise RuntimeError("network")
    except RuntimeError:
        pass
    assert re.fullmatch(r"fetching \.\.\.\nfetching: failed after \d+\.\ds\n", log.getvalue())


def test_apt_status_lines_are_read_as_percentages() -> None:
    assert apt_status("dlstatus:3:42.5:Retrieving file 3 of 7\n") == (
        42.5,
        "downloading: Retrieving file 3 of 7",
    )
    assert apt_status("pmstatus:postgresql-17:80:Configuring postgresql-17\n") == (
        80.0,
        "installing: Configuring postgresql-17",
    )
    assert apt_status("Setting up postgresql-17 ...\n") is None


def _commands(parser: argparse.ArgumentParser) -> dict[str, str]:
    [sub] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {choice.dest: choice.help or "" for choice in sub._choices_actions}


def test_help_lists_every_command_with_its_one_line_help() -> None:
    from accounts.cli import parser as accounts_parser
    from socialseed.cli import parser as socialseed_parser

    for program, parser in (
        ("socialseed", socialseed_parser()),
        ("socialseed-accounts", accounts_parser()),
    ):
        commands = _commands(parser)
        assert commands and all(commands.values()), commands
        shown = subprocess.run(
            [os.path.join(os.path.dirname(sys.executable), program), "--help"],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ | {"COLUMNS": "100"},
        ).stdout
        for name, summary in commands.items():
            assert re.search(rf"^ +{re.escape(name)} +{re.escape(summary)}$", shown, re.M), shown
