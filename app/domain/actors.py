"""Who is acting: roles and the actor carried by every use case and every audit record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    APPLICANT = "applicant"  # a citizen acting for themselves
    AGENT = "agent"  # an enterprise's agent, acting for one USCC
    REVIEWER = "reviewer"  # a department pre-reviewer, bound to one department
    COURIER = "courier"
    KIOSK = "kiosk"  # a hall's self-service check-in terminal: checks visitors in, nothing else
    ADMIN = "admin"  # catalog and calendar administrator
    SUPERVISOR = "supervisor"  # electronic supervision, read-only across departments
    SYSTEM = "system"  # jobs: pre-check, deemed acceptance, payment and courier callbacks


@dataclass(frozen=True)
class Actor:
    """An authenticated principal; ``department`` binds reviewers, ``uscc`` binds agents."""

    id: str
    role: Role
    department: str | None = None
    uscc: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in {Role.REVIEWER, Role.ADMIN, Role.SUPERVISOR, Role.SYSTEM}


SYSTEM = Actor(id="system", role=Role.SYSTEM)
