"""Free text to matters, on the demo catalog: what people actually write."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.domain.matching import best_matters
from app.services.catalog import load_catalog

CATALOG = load_catalog([Path(__file__).resolve().parents[2] / "app" / "catalog"])


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("我想换驾照", "机动车驾驶证有效期满换证"),
        ("驾驶证到期了", "机动车驾驶证有效期满换证"),
        ("老年证怎么办", "老年人优待证办理"),
        ("我失业了怎么领钱", "失业保险金申领"),
        ("营业执照要换新的", "营业执照换发"),
        ("食品经营许可证快到期了", "食品经营许可证延续"),
        ("外地人办居住证", "居住证首次申领"),
    ],
)
def test_what_people_write_finds_the_matter_first(text: str, first: str) -> None:
    found = best_matters(text, CATALOG)
    assert found and found[0].name == first
    assert len(found) <= 3


@pytest.mark.parametrize("text", ["你好", "今天天气怎么样", "谢谢", "123"])
def test_what_names_no_matter_finds_none(text: str) -> None:
    assert best_matters(text, CATALOG) == []
