"""The reviewer is offered the defects that can be wrong with a material of its kind first."""

from __future__ import annotations

from app.domain.notices import DEFECTS, defects_for


def test_a_portrait_photo_cannot_have_expired_and_a_form_wants_a_signature() -> None:
    photo, photo_rest = defects_for("photo")
    assert "expired" not in photo and "expired" in photo_rest  # still there, further down
    form, _ = defects_for("form")
    assert form[0] == "unsigned" and "expired" not in form
    card, _ = defects_for("id_card_back")
    assert "expired" in card and "unsigned" not in card


def test_every_defect_is_offered_once_for_every_kind() -> None:
    for kind in ("id_card_front", "form", "photo", "certificate", "other"):
        fitting, rest = defects_for(kind)
        assert sorted(fitting + rest) == sorted(c for c in DEFECTS if c != "other")
