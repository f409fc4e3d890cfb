"""``socialseed-accounts rotate-keys`` as people run it: progress live on a terminal, plain
lines in a log, the count on stdout. Each run on a database of its own: the command re-encrypts
every account it finds, and the shared test database holds rows other tests encrypted under
keys of their own."""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import uuid
from pathlib import Path

from pydantic import SecretStr

from accounts.cipher import TokenCipher
from accounts.connections.repository import AccountRepository
from accounts.models import Account
from accounts.settings import DEV_TOKEN_KEY
from socialseed.db import Database
from socialseed.testing import Infra, own_database

CLI = str(Path(sys.executable).with_name("socialseed-accounts"))
CIPHER = TokenCipher([SecretStr(DEV_TOKEN_KEY)])


async def _accounts(url: str, n: int) -> dict[uuid.UUID, bytes]:
    db = Database(url, pool_size=2)
    made: dict[uuid.UUID, bytes] = {}
    try:
        async with db.transaction() as session:
            for i in range(n):
                account = Account(
                    workspace_id=uuid.uuid4(),
                    platform="x",
                    platform_user_id=uuid.uuid4().hex,
                    username=f"rotate{i}",
                    display_name="Rotate",
                    connected_by=uuid.uuid4(),
                    access_token_enc=CIPHER.encrypt(f"access-{i}"),
                    refresh_token_enc=None,
                    scopes=[],
                    consecutive_failures=0,
                )
                await AccountRepository(session).add(account)
                assert account.access_token_enc is not None
                made[account.id] = account.access_token_enc
    finally:
        await db.dispose()
    return made


async def _tokens(url: str, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes | None]:
    db = Database(url, pool_size=2)
    try:
        async with db.transaction() as session:
            repo = AccountRepository(session)
            rows = [await repo.get_unscoped(i) for i in ids]
        return {a.id: a.access_token_enc for a in rows if a is not None}
    finally:
        await db.dispose()


def _env(url: str) -> dict[str, str]:
    return os.environ | {
        "ACCOUNTS_DATABASE_URL": url,
        "ACCOUNTS_DEV_MODE": "true",
        "ACCOUNTS_TOKEN_KEYS": json.dumps([DEV_TOKEN_KEY]),
        "COLUMNS": "100",
    }


async def test_rotate_keys_prints_plain_lines_in_a_log(infra: Infra) -> None:
    url = await own_database(infra, "accounts", "socialseed_rotate_log")
    before = await _accounts(url, 3)
    run = subprocess.run(
        [CLI, "rotate-keys"], env=_env(url), capture_output=True, text=True, check=True
    )
    lines = run.stderr.splitlines()
    assert lines[0] == "re-encrypting tokens under the first key ...", run.stderr
    done = re.fullmatch(
        r"re-encrypting tokens under the first key: done \((\d+) of (\d+), .*s\)", lines[-1]
    )
    assert done and int(done.group(1)) == 3, run.stderr
    assert "\x1b[" not in run.stderr and "\r" not in run.stderr
    assert run.stdout == f"re-encrypted {done.group(1)} accounts\n"
    after = await _tokens(url, list(before))
    for account_id, old in before.items():
        new = after[account_id]
        assert new is not None and new != old and CIPHER.decrypt(new) == CIPHER.decrypt(old)


def _on_a_terminal(env: dict[str, str]) -> str:
    """The command run with a pseudo-terminal as its stdout and stderr; what it drew."""
    master, replica = os.openpty()
    proc = subprocess.Popen([CLI, "rotate-keys"], env=env, stdout=replica, stderr=replica)
    os.close(replica)
    shown = b""
    try:
        while True:
            assert select.select([master], [], [], 60)[0], f"no output in 60 s: {shown!r}"
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the command exited
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        assert proc.wait(30) == 0, shown
    return shown.decode(errors="replace")


async def test_rotate_keys_draws_its_progress_on_a_terminal(infra: Infra) -> None:
    url = await own_database(infra, "accounts", "socialseed_rotate_tty")
    await _accounts(url, 2)
    text = _on_a_terminal(_env(url))
    assert "\x1b[" in text and "\r" in text  # drawn and redrawn in place
    assert "re-encrypting tokens under the first key" in text and "✓" in text
    assert re.search(r"re-encrypted \d+ accounts", text)
