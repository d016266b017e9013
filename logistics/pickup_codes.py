"""Signed hand-over QR codes: a token for (case, hand-over step, nonce, expiry), HMAC-SHA256.

A token reads ``BCMP1.<case>.<step>.<nonce>.<expires>.<sig>``; ``sig`` is the first 16 bytes of
HMAC-SHA256 over everything before it, base64url. The codec is pure: it refuses forged,
malformed and expired codes, and codes for another case or step. It cannot know whether a code
was used already; that needs a store, and belongs to the service that records a scan:

1. ``codes.verify(token, case_number=..., step=...)`` (or ``codes.read(token)`` first when the
   scan page learns the case from the code itself, then check the case awaits that step);
2. in **one transaction**: insert ``{"_id": claim.nonce, ...}`` into a ``handover_scans``
   collection, append the chain-of-custody event (who, when, where) and move the case; a
   DuplicateKey on the nonce means the code was used: raise ``PickupCodeRejected.replayed()``.

A code is issued per hand-over (a fresh nonce each time it is shown), so a photo of an old code
is worthless once scanned. The key is derived from a service secret with ``derive_key``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import segno

from logistics.port import CourierError

PREFIX = "BCMP1"
DEFAULT_TTL = timedelta(days=7)
_CASE = re.compile(r"[A-Za-z0-9-]{1,40}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{16}")
_SIG = re.compile(r"[A-Za-z0-9_-]{22}")
_MAX_TOKEN = 160


class HandOver(StrEnum):
    """Each time the originals or the certificate change hands."""

    PICKUP = "pickup"  # applicant -> courier, at the door
    ARRIVAL = "arrival"  # courier -> department counter
    DISPATCH = "dispatch"  # counter -> courier, the certificate goes out
    DELIVERY = "delivery"  # courier -> applicant


_REASONS = {
    "malformed": "无法识别该二维码，请让对方重新出示或手动输入交接码。",
    "forged": "交接码无效，请核对后重新扫描。",
    "expired": "交接码已过期，请让对方在公众号中刷新后重新出示。",
    "other_case": "该交接码不属于本办件，请核对办件号。",
    "other_step": "该交接码不适用于当前交接环节，请核对。",
    "replayed": "该交接码已使用过，不能重复扫描。",
}


class PickupCodeRejected(CourierError):
    """A hand-over code we must not act on; ``reason`` is one of the keys of ``_REASONS``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, _REASONS[reason])
        self.reason = reason

    @classmethod
    def replayed(cls) -> PickupCodeRejected:
        """What the service raises when the nonce was recorded before."""
        return cls("replayed")


@dataclass(frozen=True)
class PickupClaim:
    """What an authentic code says."""

    case_number: str
    step: HandOver
    nonce: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedCode:
    token: str
    claim: PickupClaim

    def qr_svg(self, *, scale: int = 4) -> str:
        """The code as inline SVG markup (segno), for the chat's H5 page."""
        return qr_svg(self.token, scale=scale)


def derive_key(secret: str | bytes) -> bytes:
    """A key for these codes only, never equal to ``secret`` nor to any other derived key."""
    raw = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(raw, b"buchumen hand-over codes v1", hashlib.sha256).digest()


def qr_svg(token: str, *, scale: int = 4) -> str:
    return str(segno.make(token, error="m").svg_inline(scale=scale, border=2, omitsize=True))


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PickupCodes:
    """Issues and checks hand-over codes with one key."""

    def __init__(
        self, key: bytes, *, clock: Callable[[], datetime] = _utcnow, ttl: timedelta = DEFAULT_TTL
    ) -> None:
        if len(key) < 32:
            raise ValueError("a hand-over code key has at least 32 bytes")
        self._key = key
        self._clock = clock
        self._ttl = ttl

    def __repr__(self) -> str:
        return "PickupCodes(key='***')"

    def issue(self, case_number: str, step: HandOver) -> IssuedCode:
        if not _CASE.fullmatch(case_number):
            raise ValueError("a case number is 1-40 letters, digits or '-'")
        nonce = secrets.token_urlsafe(12)  # 16 characters, 96 bits
        expires = int((self._clock() + self._ttl).timestamp())
        body = f"{PREFIX}.{case_number}.{step.value}.{nonce}.{expires}"
        claim = PickupClaim(case_number, step, nonce, datetime.fromtimestamp(expires, UTC))
        return IssuedCode(f"{body}.{self._sign(body)}", claim)

    def read(self, token: str) -> PickupClaim:
        """The claim of an authentic, unexpired code, whatever case or step it is for."""
        token = token.strip()
        parts = token.split(".")
        if len(token) > _MAX_TOKEN or len(parts) != 6 or parts[0] != PREFIX:
            raise PickupCodeRejected("malformed")
        _, case_number, step, nonce, expires, sig = parts
        if not (
            _CASE.fullmatch(case_number)
            and _NONCE.fullmatch(nonce)
            and _SIG.fullmatch(sig)
            and expires.isdigit()
            and len(expires) <= 12
        ):
            raise PickupCodeRejected("malformed")
        body = token.rsplit(".", 1)[0]
        if not hmac.compare_digest(sig, self._sign(body)):
            raise PickupCodeRejected("forged")
        try:
            hand_over = HandOver(step)
        except ValueError:
            raise PickupCodeRejected("malformed") from None  # signed by us, so never in practice
        expires_at = datetime.fromtimestamp(int(expires), UTC)
        if self._clock() >= expires_at:
            raise PickupCodeRejected("expired")
        return PickupClaim(case_number, hand_over, nonce, expires_at)

    def verify(self, token: str, *, case_number: str, step: HandOver) -> PickupClaim:
        """The claim if the code is authentic, unexpired, and for this case and this step."""
        claim = self.read(token)
        if claim.case_number != case_number:
            raise PickupCodeRejected("other_case")
        if claim.step is not step:
            raise PickupCodeRejected("other_step")
        return claim

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")
