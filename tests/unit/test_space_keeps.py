"""Who agreed to what: a person's space keeps only what they said yes to (PIPL consent)."""

from __future__ import annotations

import pytest

from app.domain.space import keeps


@pytest.mark.parametrize(
    ("opt_in", "from_case", "uploaded"),
    [
        (None, False, True),  # never asked: case copies no, a photo sent to the space yes
        (True, True, True),
        (False, False, False),  # said no: neither, not even a photo sent straight to it
    ],
)
def test_a_persons_space_keeps_only_what_they_agreed_to(
    opt_in: bool | None, from_case: bool, uploaded: bool
) -> None:
    assert keeps("person:p1", opt_in, uploaded=False) is from_case
    assert keeps("person:p1", opt_in, uploaded=True) is uploaded


def test_an_enterprises_space_keeps_as_before_whatever_its_agent_chose() -> None:
    for opt_in in (None, True, False):
        assert keeps("enterprise:91350100M000100Y43", opt_in, uploaded=False)
