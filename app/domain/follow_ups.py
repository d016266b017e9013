"""好差评 follow-up: a bad rating opens an item a supervisor must close within 15 working days."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.domain.actors import Actor, Role
from app.domain.cases import RATINGS, Case, china_date
from app.domain.errors import InvalidTransition, NotPermitted, ValidationFailed
from app.domain.workdays import WorkCalendar

# 不满意 and 非常不满意: the levels that call for a follow-up (差评整改).
BAD_RATINGS = frozenset(RATINGS[3:])
FOLLOW_UP_WORKING_DAYS = 15
MAX_RESOLUTION = 2000
RESOLVED, UNRESOLVED = "resolved", "unresolved"


def needs_follow_up(level: str) -> bool:
    return level in BAD_RATINGS


def follow_up_due(calendar: WorkCalendar, rated_at: datetime) -> date:
    """The 15th working day after the rating day, the rating day taken as a Beijing date."""
    return calendar.add_working_days(china_date(rated_at), FOLLOW_UP_WORKING_DAYS)


@dataclass
class FollowUp:
    """One bad rating under supervision; keyed by its case (a case is rated once)."""

    case: str
    department: str
    matter_code: str
    matter_name: str
    level: str
    comment: str
    opened_at: datetime
    due_on: date
    closed_at: datetime | None = None
    closed_by: str | None = None
    resolution: str | None = None
    rater: str = ""  # who rated: told the result (回访) and asked whether it was resolved
    answer: str | None = None  # the rater's reply to this round: RESOLVED or UNRESOLVED
    rounds: int = 1  # a 未解决 reply opens another round
    earlier: list[dict[str, Any]] = field(default_factory=list)  # past rounds, oldest first
    version: int = 0  # the store's version; 0 until first saved

    @classmethod
    def for_rating(cls, case: Case, calendar: WorkCalendar) -> FollowUp | None:
        """The follow-up the case's rating calls for, or None for a good (or no) rating."""
        rating = case.rating
        if rating is None or not needs_follow_up(rating["level"]):
            return None
        at = datetime.fromisoformat(rating["at"])
        return cls(
            case=case.number,
            department=case.terms.department,
            matter_code=case.terms.code,
            matter_name=case.terms.name,
            level=rating["level"],
            comment=rating.get("comment", ""),
            opened_at=at,
            due_on=follow_up_due(calendar, at),
            rater=rating.get("by", case.applicant_id),
        )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def close(self, actor: Actor, resolution: str, at: datetime) -> None:
        """A supervisor records how the complaint was handled; closed once, never reopened."""
        if actor.role is not Role.SUPERVISOR:
            raise NotPermitted("只有督办人员可以办结差评跟进")
        text = resolution.strip()
        if not text:
            raise ValidationFailed("请填写处理结果：核实情况、整改措施和回访情况")
        if len(text) > MAX_RESOLUTION:
            raise ValidationFailed(f"处理结果请不超过 {MAX_RESOLUTION} 字")
        if not self.is_open:
            raise InvalidTransition("该差评跟进已经办结，无需重复处理")
        self.closed_at, self.closed_by, self.resolution = at, actor.id, text

    def reply(self, actor: Actor, resolved: bool, at: datetime, calendar: WorkCalendar) -> None:
        """The rater answers the 回访: resolved closes the matter, 未解决 opens another round."""
        if actor.id != self.rater:
            raise NotPermitted("只有作出评价的本人可以答复回访")
        if self.closed_at is None:
            raise InvalidTransition("督办人员还在跟进处理，处理结果送达后再答复")
        if self.answer is not None:
            raise InvalidTransition("您已答复过本次回访，谢谢")
        self.answer = RESOLVED if resolved else UNRESOLVED
        if resolved:
            return
        self.earlier.append({
            "resolution": self.resolution, "closed_at": self.closed_at.isoformat(),
            "closed_by": self.closed_by, "answer": UNRESOLVED, "answered_at": at.isoformat(),
        })  # fmt: skip
        self.rounds += 1
        self.opened_at, self.due_on = at, follow_up_due(calendar, at)
        self.closed_at = self.closed_by = self.resolution = self.answer = None


__all__ = [
    "BAD_RATINGS",
    "FOLLOW_UP_WORKING_DAYS",
    "RESOLVED",
    "UNRESOLVED",
    "FollowUp",
    "follow_up_due",
    "needs_follow_up",
]
