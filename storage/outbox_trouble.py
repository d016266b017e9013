"""How an outbox dispatcher waits out a failing store (a full disk, a lost connection).

Without it a dispatcher whose claim cannot be written looks again at once, finds the same
message due, and spins: a core busy and a traceback per try. ``StoreTrouble`` doubles the wait
after each failure up to a ceiling, says so in the log once per ``log_every`` seconds with how
many failures it kept quiet, and once more when the store works again.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

log = structlog.get_logger("storage.outbox")


class StoreTrouble:
    """The store's failures as one dispatcher sees them, and how long to wait before trying."""

    def __init__(
        self,
        name: str,
        *,
        first: float = 1.0,
        most: float = 30.0,
        log_every: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._name = name
        self._first, self._most, self._log_every = first, most, log_every
        self._now = monotonic
        self._delay = 0.0
        self._resume_at = 0.0
        self._since: float | None = None  # when the store began to fail
        self._said_at: float | None = None
        self._unsaid = 0  # failures since the last line in the log

    def pause(self) -> float:
        """Seconds to wait before using the store again (0: go ahead)."""
        return max(0.0, self._resume_at - self._now())

    def failed(self, error: BaseException) -> None:
        now = self._now()
        self._delay = min(self._most, self._delay * 2) if self._since is not None else self._first
        self._since = self._since if self._since is not None else now
        self._resume_at = now + self._delay
        self._unsaid += 1
        if self._said_at is None or now - self._said_at >= self._log_every:
            log.warning(
                "outbox_store_failing",
                dispatcher=self._name,
                error_type=type(error).__name__,
                error=str(error)[:200],
                failures=self._unsaid,
                for_s=round(now - self._since),
                next_try_s=round(self._delay, 1),
            )
            self._said_at, self._unsaid = now, 0

    def ok(self) -> None:
        """A write went through: the store works (again)."""
        if self._since is None:
            return
        log.warning(
            "outbox_store_works_again",
            dispatcher=self._name,
            after_s=round(self._now() - self._since),
        )
        self._since = self._said_at = None
        self._delay, self._resume_at, self._unsaid = 0.0, 0.0, 0
