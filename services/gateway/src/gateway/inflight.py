"""How many requests each client has in flight at the gateway, capped."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from socialseed.errors import TooManyConcurrentRequests


class InFlight:
    """Counts open requests per key (``ip:...``, ``user:...``) in this gateway process. A slot
    is held from the request's arrival until its response has been sent, so one client's slow
    uploads or downloads cannot take the whole upstream pool."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.counts: Counter[str] = Counter()

    def acquire(self, key: str) -> Callable[[], None]:
        """Take a slot for ``key`` (429 TooManyConcurrentRequests when none is left); returns
        the slot's release, which may be called any number of times."""
        if self.counts[key] >= self.limit:
            raise TooManyConcurrentRequests(
                f"At most {self.limit} requests may be in flight at once; wait for one to finish."
            )
        self.counts[key] += 1
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            self.counts[key] -= 1
            if self.counts[key] <= 0:
                del self.counts[key]

        return release
