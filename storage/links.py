"""Signed download links to objects that our own service serves (``/files/<key>?exp=&sig=``).

The filesystem store has no server of its own, so its download URLs point at our service:
``exp`` is the expiry in Unix seconds and ``sig`` an HMAC-SHA256 of the key and ``exp``. The
store signs; the HTTP edge verifies with a ``LinkSigner`` made from the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from storage.objects import ObjectStoreError, check_link_lifetime

LINK_PATH = "/files/"
MIN_SECRET_BYTES = 32
_EXP = re.compile(r"[0-9]{1,12}")  # Unix seconds, up to the year 33658

Clock = Callable[[], datetime]


class LinkRefused(ObjectStoreError):
    """The link is malformed, forged, or past its expiry."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LinkSigner:
    """Signs and verifies ``(key, exp)`` pairs with one secret; ``clock`` says what now is."""

    def __init__(self, secret: bytes, *, clock: Clock = _utcnow) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(f"a link secret needs at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        self._clock = clock

    def _signature(self, key: str, exp: int) -> str:
        message = f"GET\n{key}\n{exp}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def sign(self, key: str, expires: timedelta) -> dict[str, str]:
        """The query parameters (``exp``, ``sig``) of a link to ``key`` valid for ``expires``."""
        check_link_lifetime(expires)
        exp = int((self._clock() + expires).timestamp())
        return {"exp": str(exp), "sig": self._signature(key, exp)}

    def verify(self, key: str, exp: str | None, sig: str | None) -> None:
        """Return if ``exp`` and ``sig`` were signed for ``key`` and have not expired."""
        # ASCII digits only: str.isdigit() also takes "²", which int() then refuses.
        if not exp or not sig or not _EXP.fullmatch(exp):
            raise LinkRefused(key)
        # Constant time, and before the expiry check: a forger learns nothing from timing.
        if not hmac.compare_digest(sig.encode(), self._signature(key, int(exp)).encode()):
            raise LinkRefused(key)
        if self._clock().timestamp() >= int(exp):
            raise LinkRefused(key)
