"""Authorisations to act for another (授权): an enterprise's agents, and a person's 代办.

An enterprise is represented by its legal representative (法定代表人); only they grant or
revoke its agents. A person may authorise a family member to apply for them; a person without
WeChat cannot, so the handler brings evidence (their ID card and a proof of relationship) and a
department reviewer decides. A mandate is asked for by the would-be agent, then granted (with
a scope and an expiry), refused or, once granted, revoked; nothing of the principal is visible
to the agent until it is granted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from app.domain.actors import Authority
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed

LONGEST = timedelta(days=3 * 366)  # a grant outliving three years must be renewed
REASON_MAX = 100


class Status(StrEnum):
    REQUESTED = "requested"
    GRANTED = "granted"
    REFUSED = "refused"
    REVOKED = "revoked"
    WITHDRAWN = "withdrawn"  # the agent gave it up


LABELS_ZH = {
    Status.REQUESTED: "待确认",
    Status.GRANTED: "已授权",
    Status.REFUSED: "已拒绝",
    Status.REVOKED: "已撤销",
    Status.WITHDRAWN: "已放弃",
}
OPEN = frozenset({Status.REQUESTED, Status.GRANTED})
# How a handler is related to the person they apply for, and what proves it (代办 with evidence).
RELATIONS = {
    "spouse": "配偶",
    "parent": "父母",
    "child": "子女",
    "sibling": "兄弟姐妹",
    "grandparent": "祖父母、外祖父母",
    "grandchild": "孙子女、外孙子女",
    "entrusted": "受托人（凭经公证的委托书）",
}
PROOFS_ZH = "户口簿、结婚证、出生医学证明或经公证的委托书"


@dataclass(frozen=True)
class Evidence:
    """What a handler brings for a person without WeChat, for a reviewer to judge.

    ``findings`` is the ID card photo's pre-check against the typed name and number: None
    while it is being read, empty when it matched.
    """

    name: str
    id_number: str
    relation: str  # a key of RELATIONS
    id_card: str  # object key of the principal's ID card photo (人像面)
    proof: str  # object key of the relationship proof
    findings: tuple[str, ...] | None = None

    def read(self, findings: tuple[str, ...]) -> Evidence:
        return replace(self, findings=findings)


@dataclass(frozen=True)
class Mandate:
    id: str
    principal: str  # enterprise:<uscc> | person:<person id>
    agent: str  # the agent's person id
    agent_name: str  # verified name, shown to the principal
    status: Status
    requested_at: datetime
    matters: tuple[str, ...] | None = None  # None: every matter
    expires_on: date | None = None  # the last day it is good for
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None  # a refusal's or revocation's words, told to the agent
    evidence: Evidence | None = None  # 代办 for someone without WeChat: a reviewer decides
    version: int = 0

    def active_on(self, today: date) -> bool:
        return self.status is Status.GRANTED and (
            self.expires_on is None or today <= self.expires_on
        )

    def authority(self) -> Authority:
        return Authority(self.principal, None if self.matters is None else frozenset(self.matters))

    def grant(
        self,
        by: str,
        *,
        matters: tuple[str, ...] | None,
        expires_on: date,
        at: datetime,
        today: date,
    ) -> Mandate:
        if self.status is not Status.REQUESTED:
            raise InvalidTransition(f"该授权申请{LABELS_ZH[self.status]}，无需再处理")
        if not today < expires_on <= today + LONGEST:
            raise ValidationFailed("授权有效期须晚于今天，且不超过三年，请重新选择")
        if matters is not None and not matters:
            raise ValidationFailed("请至少选择一个授权办理的事项，或选择“全部事项”")
        return replace(
            self,
            status=Status.GRANTED,
            matters=tuple(sorted(set(matters))) if matters is not None else None,
            expires_on=expires_on,
            decided_at=at,
            decided_by=by,
        )

    def refuse(self, by: str, *, reason: str, at: datetime) -> Mandate:
        if self.status is not Status.REQUESTED:
            raise InvalidTransition(f"该授权申请{LABELS_ZH[self.status]}，无需再处理")
        return replace(
            self, status=Status.REFUSED, decided_at=at, decided_by=by, reason=_reason(reason)
        )

    def revoke(self, by: str, *, reason: str, at: datetime) -> Mandate:
        if self.status is not Status.GRANTED:
            raise InvalidTransition(f"该授权{LABELS_ZH[self.status]}，不能撤销")
        return replace(
            self, status=Status.REVOKED, decided_at=at, decided_by=by, reason=_reason(reason)
        )

    def withdraw(self, by: str, *, at: datetime) -> Mandate:
        if by != self.agent:
            raise NotPermitted("只有被授权人本人可以放弃授权")
        if self.status not in OPEN:
            raise InvalidTransition(f"该授权{LABELS_ZH[self.status]}，无需放弃")
        return replace(self, status=Status.WITHDRAWN, decided_at=at, decided_by=by)

    def scope_zh(self, names: dict[str, str]) -> str:
        if self.matters is None:
            return "全部事项"
        return "、".join(names.get(code, code) for code in self.matters)


def _reason(text: str) -> str | None:
    text = text.strip()
    if len(text) > REASON_MAX:
        raise ValidationFailed(f"说明请不超过 {REASON_MAX} 个字")
    return text or None
