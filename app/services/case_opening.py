"""Opening a case: its number, whom it is for, whether they may apply yet, the matter's terms."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date, datetime

from app.domain.actors import Actor, Role, person
from app.domain.cases import FeeLine, MatterTerms, Slot, china_date
from app.domain.catalog import Matter
from app.domain.eligibility import check_eligibility
from app.domain.errors import NotPermitted, ValidationFailed
from app.domain.identity import parse_citizen_id
from app.services.accounts import USERS
from storage.documents import DocumentStore


def new_case_number(today: date) -> str:
    """'BC' + date + 6 random digits: easy to read aloud, not guessable from a neighbour's."""
    return f"BC{today:%Y%m%d}{secrets.randbelow(10**6):06d}"


def applying_for(actor: Actor, matter: Matter, on_behalf_of: str | None) -> str | None:
    """Whom the actor may open a case of ``matter`` for (None: themselves), or why not."""
    if on_behalf_of is None and "citizen" not in matter.targets:
        on_behalf_of = _sole_enterprise(actor, matter.code, matter.name)
    principal = on_behalf_of or person(actor.id)
    target = "enterprise" if principal.startswith("enterprise:") else "citizen"
    if target not in matter.targets:
        who = "企业" if target == "enterprise" else "个人"
        raise NotPermitted(f"“{matter.name}”不面向{who}办理，请选择其他事项")
    if actor.role is Role.APPLICANT and not actor.may_act_for(principal, matter.code):
        raise NotPermitted("您没有代其办理该事项的授权，请先取得授权")
    return on_behalf_of


async def check_eligible(
    store: DocumentStore, matter: Matter, principal: str, clock: Callable[[], datetime]
) -> None:
    """Conditions verified facts settle (an age, from the ID number's birth date on the day of
    application) are checked when the case opens, not left to a reviewer."""
    if principal.startswith("enterprise:"):
        return
    holder = await store.get(USERS, principal.partition(":")[2]) or {}
    if number := holder.get("id_number"):
        today = china_date(clock())
        born = parse_citizen_id(number, today=today).birth_date
        check_eligibility(matter.eligibility, birth_date=born, today=today)


def terms_of(matter: Matter) -> MatterTerms:
    """The catalog's matter as the case keeps it: a later catalog edit does not change a case."""
    return MatterTerms(
        code=matter.code,
        version=matter.version,
        name=matter.name,
        department=matter.department,
        limit_days=matter.committed_limit_days,
        fee_fen=matter.total_fee_fen,
        originals_required=matter.originals_required,
        result=matter.result,
        result_valid_years=matter.result_valid_years,
        fees=tuple(FeeLine(f.name, f.amount_fen, f.basis) for f in matter.fees),
        pay_before_review=matter.pay_before_review,
        slots=tuple(
            Slot(
                m.id,
                m.name,
                m.required,
                expected_kind=m.expected_kind,
                sample=m.sample,
                belongs_to_applicant=m.belongs_to_applicant,
                must_be_valid=m.must_be_valid,
                min_valid_days=m.min_valid_days,
                reusable=m.reusable,
            )
            for m in matter.materials
        ),
    )


def _sole_enterprise(actor: Actor, code: str, name: str) -> str:
    """The enterprise an applicant applies for when the matter is for enterprises only."""
    firms = actor.enterprises_for(code)
    if not firms:
        raise NotPermitted(
            f"“{name}”面向企业办理。请法定代表人回复“企业认证”认证企业，"
            "或经办人回复“企业授权”向法定代表人申请授权后再办理"
        )
    if len(firms) > 1:
        raise ValidationFailed("您可代多家企业办理该事项，请选择代哪家企业办理")
    return firms[0]
