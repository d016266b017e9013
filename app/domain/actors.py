"""Who is acting: roles, the authority to act for someone else, and the actor of every use case."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"  # a verified natural person; acts for others only by authority
    REVIEWER = "reviewer"  # a department pre-reviewer, bound to one department
    COURIER = "courier"
    KIOSK = "kiosk"  # a hall's self-service check-in terminal: checks visitors in, nothing else
    ADMIN = "admin"  # catalog and calendar administrator
    SUPERVISOR = "supervisor"  # electronic supervision, read-only across departments
    SYSTEM = "system"  # jobs: pre-check, deemed acceptance, payment and courier callbacks


def enterprise(uscc: str) -> str:
    """The principal an enterprise is: the same string names its document space."""
    return f"enterprise:{uscc}"


def person(person_id: str) -> str:
    return f"person:{person_id}"


@dataclass(frozen=True)
class Authority:
    """A live right to act for another: an enterprise (its legal representative or an agent it
    authorised) or a person who authorised a family member (代办). ``matters`` limits it to
    those catalog codes; None means every matter."""

    principal: str
    matters: frozenset[str] | None = None

    def covers(self, matter_code: str | None) -> bool:
        return self.matters is None or (matter_code is not None and matter_code in self.matters)

    @property
    def uscc(self) -> str | None:
        kind, _, ref = self.principal.partition(":")
        return ref if kind == "enterprise" else None


@dataclass(frozen=True)
class Actor:
    """An authenticated principal; ``department`` binds reviewers.

    An applicant's ``authorities`` are read from the store on every request (never from a
    token), so a revoked or expired authorisation stops at the agent's next request.
    """

    id: str
    role: Role
    department: str | None = None
    authorities: tuple[Authority, ...] = ()

    @property
    def is_staff(self) -> bool:
        return self.role in {Role.REVIEWER, Role.ADMIN, Role.SUPERVISOR, Role.SYSTEM}

    def may_act_for(self, principal: str, matter_code: str | None = None) -> bool:
        """Whether this applicant may act for ``principal`` (on ``matter_code``, if given)."""
        if self.role is not Role.APPLICANT:
            return False
        if principal == person(self.id):
            return True
        return any(a.principal == principal and a.covers(matter_code) for a in self.authorities)

    def fully_for(self, principal: str) -> bool:
        """Acting for ``principal`` in every matter: what seeing its whole document space takes."""
        return principal == person(self.id) or any(
            a.principal == principal and a.matters is None for a in self.authorities
        )

    def enterprises_for(self, matter_code: str) -> list[str]:
        """The enterprises (as principals) this applicant may act for in ``matter_code``."""
        return [a.principal for a in self.authorities if a.uscc and a.covers(matter_code)]

    @property
    def enterprises(self) -> list[str]:
        """The USCCs this applicant may act for, in the order their authorities came."""
        return [a.uscc for a in self.authorities if a.uscc]


SYSTEM = Actor(id="system", role=Role.SYSTEM)
