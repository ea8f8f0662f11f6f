"""The per-record path: codes, admission, cross-field checks, organisations."""

from __future__ import annotations

import pytest

from matching.config import CodeMaps
from matching.standardise.columns import CONTRACT_OUTPUT_COLUMNS, OUTPUT_COLUMNS
from matching.standardise.record import standardise_record

VALID_ID_M = "440305198503071238"  # male, born 1985-03-07, Shenzhen Nanshan
VALID_USCC = "91440300708461136T"  # organisation code 708461136


def person(**kw: str) -> dict[str, str]:
    row = {
        "source_system": "CORE", "source_customer_id": "C0001", "customer_type": "P",
        "name": "张伟", "gender": "1", "birth_date": "1985-03-07", "id_type": "0",
        "id_number": VALID_ID_M, "mobile": "13812345678", "phone": "", "email": "",
        "address": "", "legal_rep": "", "updated_at": "2026-11-01T08:00:00",
    }
    row.update(kw)
    return row


def org(**kw: str) -> dict[str, str]:
    row = person(customer_type="G", name="深圳市腾讯计算机系统有限公司", gender="",
                 birth_date="", id_type="8", id_number=VALID_USCC, legal_rep="马化腾")
    row.update(kw)
    return row


def issues_of(row: dict[str, str], codes: CodeMaps) -> set[str]:
    value = standardise_record(row, codes).record["issues"]
    return set(value.split(";")) if value else set()


def test_clean_person_has_every_column_and_no_issue(codes: CodeMaps) -> None:
    out = standardise_record(person(), codes)
    assert out.rejected == ()
    assert list(out.record) == list(OUTPUT_COLUMNS)
    assert list(OUTPUT_COLUMNS[: len(CONTRACT_OUTPUT_COLUMNS)]) == list(CONTRACT_OUTPUT_COLUMNS)
    rec = out.record
    assert (rec["name"], rec["gender"], rec["birth_date"]) == ("张伟", "M", "1985-03-07")
    assert (rec["id_type"], rec["id_number"], rec["id_valid"]) == ("RESIDENT_ID", VALID_ID_M, "1")
    assert rec["mobile"] == "13812345678"
    assert rec["issues"] is None


@pytest.mark.parametrize(
    ("system", "gender", "id_type"),
    [("CORE", "1", "0"), ("UW", "M", "01"), ("CLAIM", "男", "身份证"), ("TELE", "1", "I"),
     ("FIN", "M", "01"), ("WEB", "male", "ID_CARD"), ("API", "M", "RESIDENT_ID")],
)
def test_each_system_codes_reach_standard_codes(codes: CodeMaps, system: str, gender: str,
                                                 id_type: str) -> None:
    rec = standardise_record(person(source_system=system, gender=gender, id_type=id_type),
                             codes).record
    assert (rec["gender"], rec["id_type"], rec["issues"]) == ("M", "RESIDENT_ID", None)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (person(name=""), "NAME_MISSING"),
        (person(name="   "), "NAME_MISSING"),
        (person(customer_type="X"), "TYPE_INVALID"),
        (person(customer_type=""), "TYPE_INVALID"),
        (person(source_customer_id=""), "SOURCE_KEY_MISSING"),
        (person(source_system=""), "SOURCE_KEY_MISSING"),
    ],
)
def test_rows_no_customer_can_be_are_rejected_with_reason(codes: CodeMaps, row: dict[str, str],
                                                           reason: str) -> None:
    assert reason in standardise_record(row, codes).rejected


@pytest.mark.parametrize(
    ("row", "issue"),
    [
        (person(gender="9"), "CODE_UNMAPPED"),
        (person(id_type="Z"), "CODE_UNMAPPED"),
        (person(source_system="BANCA"), "SOURCE_UNKNOWN"),
        (person(birth_date="1986-03-07"), "ID_BIRTH_MISMATCH"),
        (person(gender="2"), "ID_GENDER_MISMATCH"),
        (person(id_number="440305198503071239"), "ID_CHECKSUM"),
        (person(mobile="1381234567"), "MOBILE_INVALID"),
        (person(email="zhang@@qq"), "EMAIL_INVALID"),
        (person(birth_date="1985-02-30"), "DATE_INVALID"),
        (person(id_type="8"), "ID_TYPE_MISMATCH"),
        (person(id_number=""), "ID_MISSING"),
        (person(updated_at="yesterday"), "UPDATED_AT_INVALID"),
    ],
)
def test_issue_codes_are_reported_not_rejected(codes: CodeMaps, row: dict[str, str],
                                                issue: str) -> None:
    out = standardise_record(row, codes)
    assert out.rejected == ()
    assert issue in issues_of(row, codes)


def test_unmapped_code_keeps_the_record(codes: CodeMaps) -> None:
    rec = standardise_record(person(gender="9", id_type="Z"), codes).record
    assert "CODE_UNMAPPED" in (rec["issues"] or "")
    assert rec["id_type"] == "RESIDENT_ID"  # recognised: it is a valid resident ID
    assert rec["gender"] == "M"  # the valid resident ID fills the unknown gender
    rec = standardise_record(person(gender="9", id_type="Z", id_number="E1234567"), codes).record
    assert (rec["id_type"], rec["id_number"], rec["gender"]) == ("OTHER", "E1234567", "U")


def test_checksum_invalid_id_is_kept_for_display_but_not_as_id(codes: CodeMaps) -> None:
    rec = standardise_record(person(id_number="440305198503071239"), codes).record
    assert rec["id_number"] is None          # can never drive a merge
    assert rec["id_valid"] == "0"
    assert rec["id_raw"] == "440305198503071239"
    assert rec["id_cleaned"] == "440305198503071239"  # for fuzzy comparison


def test_legacy_15_digit_id_is_widened(codes: CodeMaps) -> None:
    rec = standardise_record(person(id_number="440305850307123", birth_date=""), codes).record
    assert rec["id_number"] == "440305198503071238"
    assert rec["birth_date"] == "1985-03-07"  # filled from the ID
    assert "ID_LEGACY_15" in (rec["issues"] or "")


def test_id_without_type_is_recognised_only_when_valid(codes: CodeMaps) -> None:
    rec = standardise_record(person(id_type=""), codes).record
    assert (rec["id_type"], rec["id_number"]) == ("RESIDENT_ID", VALID_ID_M)
    rec = standardise_record(person(id_type="", id_number="E12345678"), codes).record
    assert (rec["id_type"], rec["id_number"]) == ("OTHER", "E12345678")


def test_organisation_fields(codes: CodeMaps) -> None:
    out = standardise_record(org(), codes)
    rec = out.record
    assert out.rejected == ()
    assert rec["customer_type"] == "G"
    assert rec["gender"] is None and rec["birth_date"] is None
    assert (rec["id_type"], rec["id_number"]) == ("USCC", VALID_USCC)
    assert (rec["uscc"], rec["org_code"]) == (VALID_USCC, "708461136")
    assert rec["org_core"] == "腾讯计算机系统"
    assert rec["legal_rep"] == "马化腾"


def test_org_code_record_and_uscc_record_share_org_code(codes: CodeMaps) -> None:
    by_uscc = standardise_record(org(), codes).record
    by_code = standardise_record(org(id_type="7", id_number="70846113-6"), codes).record
    assert by_code["id_type"] == "ORG_CODE"
    assert by_code["org_code"] == by_uscc["org_code"] == "708461136"


def test_uscc_checksum_issue(codes: CodeMaps) -> None:
    row = org(id_number="91440300708461136A")
    rec = standardise_record(row, codes).record
    assert rec["id_number"] is None and rec["uscc"] is None
    assert "USCC_CHECKSUM" in issues_of(row, codes)


def test_traditional_full_width_person(codes: CodeMaps) -> None:
    row = person(name=" 張 偉 ", id_number="４４０３０５１９８５０３０７１２３８",
                 mobile="+86 138-1234-5678", source_system="claim", gender="男", id_type="身份证")
    rec = standardise_record(row, codes).record
    assert (rec["source_system"], rec["name"], rec["id_number"], rec["mobile"]) == (
        "CLAIM", "张伟", VALID_ID_M, "13812345678")


def test_record_is_idempotent_on_its_output(codes: CodeMaps) -> None:
    first = standardise_record(person(name="歐陽 娜娜", birth_date="1985年03月07日",
                                      source_system="API", gender="M", id_type="RESIDENT_ID"),
                               codes).record
    again = standardise_record({**first, "id_number": first["id_number"]}, codes).record
    for col in ("name", "gender", "birth_date", "id_type", "id_number", "mobile", "name_pinyin"):
        assert again[col] == first[col], col
