"""The synthetic OCR corpus is reproducible, covers every kind, and its truth is valid."""

from __future__ import annotations

import io
import json
import random
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from app.domain.identity import is_valid_citizen_id, is_valid_uscc, parse_citizen_id
from app.provision import SYSTEM_REQUIREMENTS
from ocr.corpus import ALL, FONT_PATH, Sample, generate, write_corpus
from ocr.degrade import degrade

pytestmark = pytest.mark.skipif(
    not FONT_PATH.is_file(),
    reason=f"{FONT_PATH} is missing: install fonts-noto-cjk (python3 -m tests does it)",
)

TODAY = date(2025, 1, 1)
FIELDS = {
    "id_card_front": {"id_number", "name", "birth_date", "sex", "address"},
    "id_card_back": {"issuer", "valid_from", "valid_to"},
    "business_licence": {"uscc", "company_name", "legal_representative", "valid_to"},
    "certificate": {"certificate_number", "holder_name", "expiry_date"},
}


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def samples() -> list[Sample]:
    return list(generate(7, 12))


def test_the_cjk_font_is_installed_and_the_bootstrap_asks_for_it() -> None:
    requirement = next(r for r in SYSTEM_REQUIREMENTS if "fonts-noto-cjk" in r.apt_packages)
    assert requirement.is_present()


def test_the_same_seed_draws_byte_identical_images(samples: list[Sample]) -> None:
    again = list(generate(7, 4))
    assert [png(s.image) for s in again] == [png(s.image) for s in samples[:4]]
    assert [s.truth for s in again] == [s.truth for s in samples[:4]]


def test_a_seed_keeps_drawing_the_documents_it_always_drew() -> None:
    # Benchmarks are compared across commits: a refactoring must not change the corpus.
    assert [s.truth for s in generate(2026, 4)] == [
        {
            "id_number": "110108200312033062",
            "name": "付博静",
            "birth_date": "2003-12-03",
            "sex": "女",
            "address": "北京市海淀区学院路294号院16号楼2505",
        },
        {"issuer": "成都市公安局武侯区分局", "valid_from": "2024-06-17", "valid_to": "2044-06-17"},
        {
            "uscc": "91350102T8014LWK8K",
            "company_name": "福州瑞丰建筑工程有限公司",
            "legal_representative": "方桂勇",
            "valid_to": "2041-10-11",
        },
        {
            "certificate_number": "T110108198210186017",
            "holder_name": "姜霞",
            "expiry_date": "2018-03-01",
        },
    ]


def test_another_seed_draws_other_documents(samples: list[Sample]) -> None:
    other = list(generate(8, 4))
    assert [png(s.image) for s in other] != [png(s.image) for s in samples[:4]]
    assert [s.truth for s in other] != [s.truth for s in samples[:4]]


def test_every_kind_is_drawn_with_exactly_its_fields(samples: list[Sample]) -> None:
    assert {s.kind for s in samples} == set(ALL)
    for sample in samples:
        assert set(sample.truth) == FIELDS[sample.kind], sample.kind
        assert all(sample.truth.values()), sample.truth


def test_kinds_restricts_what_is_drawn() -> None:
    assert {s.kind for s in generate(3, 3, kinds=["certificate"])} == {"certificate"}


def test_id_numbers_are_valid_and_agree_with_the_birth_date_and_sex(
    samples: list[Sample],
) -> None:
    fronts = [s for s in samples if s.kind == "id_card_front"]
    assert fronts
    for sample in fronts:
        citizen = parse_citizen_id(sample.truth["id_number"], today=TODAY)
        assert citizen.birth_date.isoformat() == sample.truth["birth_date"]
        assert {"M": "男", "F": "女"}[citizen.sex] == sample.truth["sex"]


def test_certificate_numbers_carry_a_valid_id_number(samples: list[Sample]) -> None:
    for sample in (s for s in samples if s.kind == "certificate"):
        number = sample.truth["certificate_number"].removeprefix("T")
        assert is_valid_citizen_id(number, today=TODAY), number


def test_usccs_pass_their_check_characters(samples: list[Sample]) -> None:
    licences = [s for s in samples if s.kind == "business_licence"]
    assert licences
    for sample in licences:
        assert is_valid_uscc(sample.truth["uscc"]), sample.truth["uscc"]
        valid_to = sample.truth["valid_to"]
        assert valid_to == "长期" or date.fromisoformat(valid_to)


def test_the_document_sits_on_a_darker_desk(samples: list[Sample]) -> None:
    for sample in samples:
        image = sample.image.convert("L")
        width, height = image.size
        centre = image.crop((width * 2 // 5, height * 2 // 5, width * 3 // 5, height * 3 // 5))
        desk = image.crop((0, 0, width // 20, height // 20))
        assert ImageStat.Stat(desk).mean[0] + 60 < ImageStat.Stat(centre).mean[0], sample.kind


def test_degrading_changes_the_pixels_but_not_the_size_much(samples: list[Sample]) -> None:
    for sample in samples[:4]:
        degraded = degrade(sample.image, random.Random(1), level="degraded")
        assert degraded.tobytes() != sample.image.convert("RGB").tobytes()
        assert degraded.mode == "RGB"
        for before, after in zip(sample.image.size, degraded.size, strict=True):
            assert before <= after <= before * 1.1


def test_degrading_is_deterministic_and_clean_is_untouched(samples: list[Sample]) -> None:
    image = samples[0].image
    first = degrade(image, random.Random(5), level="degraded")
    assert first.tobytes() == degrade(image, random.Random(5), level="degraded").tobytes()
    assert first.tobytes() != degrade(image, random.Random(6), level="degraded").tobytes()
    assert degrade(image, random.Random(5), level="clean") is image


def test_write_corpus_saves_pngs_and_one_truth_line_each(tmp_path: Path) -> None:
    write_corpus(tmp_path, seed=1, count=2, degraded=True)
    records = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert [r["kind"] for r in records] == ["id_card_front", "id_card_back"]
    for record in records:
        with Image.open(tmp_path / record["file"]) as image:
            assert image.format == "PNG"


def test_every_typeface_family_is_installed_and_the_bootstrap_asks_for_it() -> None:
    from ocr.corpus.sheet import FAMILIES, available

    assert set(available()) == set(FAMILIES)
    wanted = {pkg for r in SYSTEM_REQUIREMENTS for pkg in r.apt_packages}
    assert {"fonts-wqy-zenhei", "fonts-wqy-microhei", "fonts-arphic-uming"} <= wanted


def test_bench_photos_are_reproducible_wechat_jpegs_at_their_size() -> None:
    from ocr.corpus.sets import LAYOUTS, genuine_shot

    shots = [genuine_shot(1, i, "white_paper", 800) for i in (0, 1)]
    assert [s.layout for s in shots] == list(LAYOUTS)[:2]
    again = genuine_shot(1, 1, "white_paper", 800)
    assert again.data == shots[1].data and again.truth == shots[1].truth
    for shot in shots:
        with Image.open(io.BytesIO(shot.data)) as image:
            assert image.format == "JPEG" and max(image.size) == 800
