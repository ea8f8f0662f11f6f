"""Masking (脱敏) as the issue shows it: 110***********1234, 138****5678."""

from __future__ import annotations

from ecif.services.masking import mask_email, mask_fields, mask_id, mask_mobile, mask_phone


def test_resident_id_and_mobile_as_specified() -> None:
    assert mask_id("110101199003071234") == "110***********1234"
    assert mask_mobile("13812345678") == "138****5678"
    assert len(mask_id("110101199003071234") or "") == 18


def test_other_values() -> None:
    assert mask_phone("021-55551234") == "021-******34"
    assert mask_email("zhangwei@qq.com") == "z*******@qq.com"
    assert mask_id("E1234567") == "E******7"
    assert mask_id("") == "" and mask_mobile(None) is None
    assert mask_fields({"name": "张伟", "mobile": "13812345678", "id_number": None}) == {
        "name": "张伟", "mobile": "138****5678", "id_number": None}
