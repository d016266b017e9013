"""Real-name verification (实名核验): the port, Tencent Cloud FaceID's adapter, TC3 signing.

Like payments/ and logistics/, it imports nothing else of ours. ``app.realname.simulator`` is a
local FaceID for tests and demo mode; ``app.realname.demo`` starts one with a verifier on it.
"""

from app.realname.port import (
    IdentityVerifier,
    Reason,
    Verdict,
    Verification,
    VerifierUnavailable,
    mask_id_number,
)
from app.realname.tencent import TencentFaceIdVerifier

__all__ = [
    "IdentityVerifier",
    "Reason",
    "TencentFaceIdVerifier",
    "Verdict",
    "Verification",
    "VerifierUnavailable",
    "mask_id_number",
]
