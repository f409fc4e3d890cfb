"""Which sandbox account a request concerns, so the stats can be read per account (a test
counts only the calls it caused, whatever else shares the sandbox)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# The sandbox account the request being served concerns, as its token or authorization code
# says: the middleware opens one per request (``attribution``), resolving a token or a code
# fills it in (``attribute``), and the request's stats are counted for that account too.
_request_account: ContextVar[dict[str, str] | None] = ContextVar(
    "sandbox_request_account", default=None
)


@contextmanager
def attribution() -> Iterator[dict[str, str]]:
    """Collects the account of the request served inside (``{"account": id}`` once known)."""
    holder: dict[str, str] = {}
    reset = _request_account.set(holder)
    try:
        yield holder
    finally:
        _request_account.reset(reset)


def attribute(account_id: str) -> None:
    """The request being served concerns ``account_id`` (the first token or code it showed)."""
    holder = _request_account.get()
    if holder is not None:
        holder.setdefault("account", account_id)
