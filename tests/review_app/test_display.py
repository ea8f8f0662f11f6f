"""Display helpers: the character diff marks what differs (张伟 / 张玮), the field
rows align values by field, the waterfall geometry stays inside its width."""

from __future__ import annotations

from matching.engine.explain import waterfall
from review_app.display import char_diff, field_rows, waterfall_bars


def test_char_diff_marks_the_differing_characters() -> None:
    assert char_diff("张伟", "张玮") == [("张", False), ("伟", True)]
    assert char_diff("张伟", "张伟") == [("张伟", False)]
    assert char_diff("13800138000", "13800138001") == [("1380013800", False), ("0", True)]
    assert char_diff("", "张伟") == [] and char_diff(None, "x") == []
    assert char_diff("王芳", None) == [("王芳", False)]


def test_field_rows_align_by_field() -> None:
    rows = field_rows([{"name": "张伟", "mobile": "138"}, {"name": "张玮", "mobile": "138"},
                       {"name": "张伟", "mobile": None}], ("name", "mobile"))
    name, mobile = rows
    assert name["label"] == "名称/姓名" and not name["same"]
    assert name["cells"] == [[("张", False), ("伟", True)], [("张", False), ("玮", True)],
                             [("张伟", False)]]
    assert not mobile["same"] and mobile["cells"][2] == []


def test_waterfall_bars_fit() -> None:
    bars, zero, height = waterfall_bars(waterfall({"name": 5.0, "id": -3.0}, 4.0), width=300)
    assert [b.label for b in bars] == ["先验", "姓名", "证件号码", "合计"]
    assert [b.kind for b in bars] == ["prior", "pos", "neg", "total"]
    assert all(0 <= b.x and b.x + b.width <= 300.5 for b in bars)
    assert 0 <= zero <= 300 and height == 4 * 18


def test_comparison_names() -> None:
    from review_app.display import comparison_name

    assert comparison_name("name") == "姓名"
    assert comparison_name("tf_adj_name") == "姓名（词频调整）"
    assert comparison_name("something_new") == "something_new"
