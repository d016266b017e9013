"""Engine boxes regrouped into printed rows; the boxes are RapidOCR's on the synthetic corpus."""

from __future__ import annotations

from ocr.engine import Line
from ocr.layout import rows


def lines(*boxes: tuple[tuple[int, int, int, int], str]) -> list[Line]:
    """Lines in the engine's order (by top edge), as the adapters return them."""
    return sorted((Line(text, 1.0, box) for box, text in boxes), key=lambda line: line.box[1])


def test_a_value_boxed_a_little_higher_than_its_label_still_follows_it() -> None:
    read = lines(
        ((227, 132, 335, 170), "吴嘉辉"),
        ((131, 136, 244, 168), "姓名"),
        ((131, 201, 268, 238), "性别女"),
        ((331, 202, 456, 238), "民族汉"),
        ((233, 273, 480, 302), "1978年3月18日"),
        ((132, 272, 205, 305), "出生"),
    )
    assert [line.text for line in read][:2] == ["吴嘉辉", "姓名"]  # the engine's order
    assert rows(read) == ["姓名\t吴嘉辉", "性别女\t民族汉", "出生\t1978年3月18日"]


def test_spread_labels_read_down_their_column_as_one_line_go_back_to_their_rows() -> None:
    read = lines(
        ((285, 267, 430, 304), "名刘芳嘉"),
        ((161, 271, 193, 366), "姓性"),
        ((285, 319, 378, 360), "别男"),
        ((165, 366, 192, 411), "证"),
        ((345, 379, 641, 407), "T310104196212145799"),
        ((292, 381, 319, 408), "号"),
    )
    assert rows(read) == ["姓\t名刘芳嘉", "性\t别男", "证\t号\tT310104196212145799"]


def test_a_narrow_box_of_digits_is_not_taken_for_a_vertical_line() -> None:
    read = lines(((858, 540, 878, 572), "11"), ((640, 541, 850, 571), "所福州市鼓楼区人民路"))
    assert rows(read) == ["所福州市鼓楼区人民路\t11"]


def test_on_a_tilted_photo_a_label_joins_the_taller_box_beside_it() -> None:
    # Tilted about 3°: the long boxes are taller than the text, and the labels sit lower.
    read = lines(
        ((326, 391, 738, 454), "北京市海淀区文化路183号院7号楼"),
        ((222, 423, 299, 462), "住址"),
        ((328, 456, 400, 494), "2804"),
        ((479, 544, 936, 610), "110108195705229249"),
        ((240, 583, 442, 629), "公民身份号码"),
    )
    assert rows(read) == [
        "住址\t北京市海淀区文化路183号院7号楼",
        "2804",
        "公民身份号码\t110108195705229249",
    ]


def test_the_two_columns_of_a_licence_stay_separate_boxes_of_one_row() -> None:
    read = lines(
        ((202, 371, 239, 399), "名"),
        ((234, 371, 600, 397), "称北京同创信息技术有限公司"),
        ((774, 371, 1082, 398), "注册资本人民币伍佰万元整"),
        ((176, 471, 378, 500), "法定代表人吕娟涛"),
        ((748, 473, 1228, 498), "营业期限2010年11月16日至2040年11月15日"),
    )
    assert rows(read) == [
        "名\t称北京同创信息技术有限公司\t注册资本人民币伍佰万元整",
        "法定代表人吕娟涛\t营业期限2010年11月16日至2040年11月15日",
    ]


def test_no_lines_make_no_rows() -> None:
    assert rows([]) == []
