"""Space documents: reusable only while valid enough, and only for the kind a slot expects."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.domain.errors import ValidationFailed
from app.domain.space import SpaceDocument, Version, check_reusable

AT = datetime(2026, 11, 25, 2, tzinfo=UTC)
TODAY = date(2026, 11, 25)
CARD = "居民身份证国徽面"


def back(valid_to: str) -> SpaceDocument:
    version = Version(
        1, "space/a.jpg", "image/jpeg", 10, "0" * 64, "chat", AT, {"valid_to": valid_to}
    )
    return SpaceDocument("d1", "person:u1", "id_card_back", "居民身份证国徽面", [version], AT)


def test_a_document_is_reused_only_while_valid_for_as_long_as_the_slot_needs() -> None:
    assert (
        check_reusable(
            back("2027-01-01"), "id_card_back", TODAY, must_be_valid=True, min_days=30, name=CARD
        ).n
        == 1
    )
    with pytest.raises(ValidationFailed, match="到期"):
        check_reusable(
            back("2026-12-01"), "id_card_back", TODAY, must_be_valid=True, min_days=30, name=CARD
        )
    assert check_reusable(
        back("长期"), "id_card_back", TODAY, must_be_valid=True, min_days=30, name=CARD
    )
    # The licence being renewed may be expired: that slot does not ask for validity.
    assert check_reusable(
        back("2020-01-01"), "id_card_back", TODAY, must_be_valid=False, min_days=0, name=CARD
    )


def test_a_document_of_another_kind_cannot_fill_the_slot() -> None:
    with pytest.raises(ValidationFailed, match="不能用作"):
        check_reusable(
            back("长期"), "id_card_front", TODAY, must_be_valid=True, min_days=0, name=CARD
        )


def certificate(title: str) -> SpaceDocument:
    version = Version(1, "space/c.jpg", "image/jpeg", 10, "0" * 64, "chat", AT, {})
    return SpaceDocument("d2", "person:u1", "certificate", title, [version], AT)


def test_a_certificate_fills_only_the_slot_that_asks_for_that_certificate() -> None:
    elder = certificate("老年人优待证")
    with pytest.raises(ValidationFailed, match="不能用作"):
        check_reusable(elder, "certificate", TODAY, must_be_valid=False, min_days=0,
                       name="机动车驾驶证")  # fmt: skip
    issued = certificate("中华人民共和国机动车驾驶证")  # what the last renewal put in the space
    assert check_reusable(
        issued, "certificate", TODAY, must_be_valid=False, min_days=0,
        name="原机动车驾驶证（正页和副页）",
    )  # fmt: skip
