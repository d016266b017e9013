"""docs/architecture.md draws the case lifecycle from the transition rules themselves: this test
renders the rules as a mermaid diagram and fails when the document's copy is not the same."""

from __future__ import annotations

import re
from pathlib import Path

from app.domain.actors import Role
from app.domain.case_states import RULES, TERMINAL, Action, State

DOC = Path(__file__).parents[2] / "docs" / "architecture.md"
WHO = {Role.APPLICANT: "applicant", Role.SYSTEM: "system", Role.COURIER: "courier"}


def diagram() -> str:
    """The lifecycle as mermaid: each action once per source (withdrawing only from a draft:
    it is open from every state before the certificate, which the text says)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for action, rule in RULES.items():
        sources = (
            [State.DRAFT]
            if action is Action.WITHDRAW
            else sorted(rule.sources, key=list(State).index)
        )
        who = ", ".join(
            WHO[r] for r in sorted(rule.roles) if r in WHO and Role.REVIEWER not in rule.roles
        )
        label = action.value + (f" ({who})" if who else "")
        lines += [f"    {s.value} --> {rule.target.value}: {label}" for s in sources]
    lines += [f"    {s.value} --> [*]" for s in sorted(TERMINAL, key=list(State).index)]
    return "\n".join(lines)


def test_the_architecture_documents_lifecycle_is_the_rules_table() -> None:
    found = re.search(r"## Case lifecycle\n\n```mermaid\n(.*?)\n```", DOC.read_text(), re.S)
    assert found, "docs/architecture.md has no mermaid block under '## Case lifecycle'"
    assert found[1] == diagram(), "regenerate it: python -m tests.unit.test_state_diagram"


if __name__ == "__main__":
    text = DOC.read_text()
    block = re.compile(r"(## Case lifecycle\n\n```mermaid\n).*?(\n```)", re.S)
    DOC.write_text(block.sub(lambda m: m[1] + diagram() + m[2], text, count=1))
