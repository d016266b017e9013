"""The real-name verification port (实名核验): do this name and this ID number belong together?

A check has two definite outcomes and one non-outcome:

- ``MATCH``: the authoritative register holds this number under this name.
- ``MISMATCH``: the provider answered definitely that the pair cannot be confirmed: the number is
  on record under another name, there is no record of the number at all, or the provider
  refused the number or the name as malformed. Asking again with the same pair gives the same
  answer, so the applicant must correct what they typed (``Verification.message`` says what).
  No record is a mismatch because, for the applicant, the pair is unconfirmed and only a
  correction or the household registration office (户籍所在地) can change that.
- ``VerifierUnavailable`` (raised, never returned): the outcome is unknown (no answer in time,
  an error or an answer we cannot read, throttling, the register itself down, our own
  credentials refused). It must never be treated as a match; asking again later may succeed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    MATCH = "match"
    MISMATCH = "mismatch"


class Reason(StrEnum):
    """Why the verdict is what it is; only ``CONSISTENT`` goes with ``MATCH``."""

    CONSISTENT = "consistent"  # name and number belong together
    INCONSISTENT = "inconsistent"  # the number is on record under another name
    NO_RECORD = "no_record"  # the register has no record of this number
    INVALID_ID_NUMBER = "invalid_id_number"  # the provider refused the number's format
    INVALID_NAME = "invalid_name"  # the provider refused the name's format


_MESSAGES = {
    Reason.CONSISTENT: "实名核验通过。",
    Reason.INCONSISTENT: "姓名与身份证号码不一致，请核对后重新输入。",
    Reason.NO_RECORD: (
        "未查询到该身份证号码的登记信息，请核对号码；如确认无误，请到户籍所在地核实。"
    ),
    Reason.INVALID_ID_NUMBER: "身份证号码格式不正确，请核对后重新输入。",
    Reason.INVALID_NAME: "姓名格式不正确，请填写身份证上的姓名。",
}


@dataclass(frozen=True)
class Verification:
    """A definite answer; ``request_id`` is the provider's id of the check (keep it for audit)."""

    verdict: Verdict
    reason: Reason
    request_id: str
    description: str = ""  # the provider's own words, for logs and supervisors

    def __post_init__(self) -> None:
        if (self.verdict is Verdict.MATCH) != (self.reason is Reason.CONSISTENT):
            raise ValueError(f"verdict {self.verdict} cannot have reason {self.reason}")

    @property
    def matched(self) -> bool:
        return self.verdict is Verdict.MATCH

    @property
    def message(self) -> str:
        """What to tell the applicant, in Chinese."""
        return _MESSAGES[self.reason]


class VerifierUnavailable(Exception):
    """The outcome is unknown; ``message`` is Chinese, fit to show people; never a match.

    ``code`` is the provider's error or result code when it gave one ("" for transport faults);
    ``detail`` is for logs and supervisors and never holds a full ID number.
    """

    message = "实名核验服务暂时不可用，请稍后再试。"

    def __init__(
        self, detail: str, message: str | None = None, *, code: str = "", request_id: str = ""
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.request_id = request_id
        if message is not None:
            self.message = message


class IdentityVerifier(ABC):
    """Checks a (name, citizen ID number) pair against an authoritative register."""

    @abstractmethod
    async def verify(self, name: str, id_number: str) -> Verification:
        """MATCH or MISMATCH with its reason; raises VerifierUnavailable when unknown."""

    async def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release what the adapter opened itself (never a session it was given)."""


def mask_id_number(number: str) -> str:
    """All but the first and last four characters starred (app.domain.identity's convention)."""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
