"""The auto-merge guard (matching/engine/guard.py): evidence on per-field weights.

First on hand-set weights (the rule itself), then on hand-made record pairs
scored by a model trained on the checked-in sample: a household's and twins'
pairs never pass, whatever they share; duplicates with a typo do.
"""

from __future__ import annotations

import copy
from dataclasses import replace

import pyarrow as pa
import pytest

from matching.engine.backend import DuckDBBackend
from matching.engine.config import EngineConfig, load_engine_config
from matching.engine.features import person_features_sql
from matching.engine.guard import Guard, field_weights, guard_holds
from matching.engine.model import TrainedModel, load_model, model_path, predict_pairs
from matching.engine.workflow import train_files
from matching.standardise.columns import OUTPUT_COLUMNS
from tests.engine.test_rules import Record, person
from tests.engine.test_run import SAMPLE

GUARD = Guard(min_weight=6, min_fields=2, distinct=("name", "id"),
              shared=("mobile", "phone", "email", "address"))


def holds(guard: Guard | None = GUARD, **weights: float) -> bool:
    table = pa.table({f"mw_{k}": pa.array([v], pa.float64()) for k, v in weights.items()})
    return bool(guard_holds(table, guard)[0])


# --- the rule, on hand-set weights ---------------------------------------------------


def test_name_and_a_shared_field_pass() -> None:
    assert holds(name=13.3, mobile=16.5, address=-3.4)


def test_shared_fields_count_as_one() -> None:
    """A household's mobile, landline and address: one field, and not a distinct one."""
    assert not holds(name=2.5, mobile=16.5, phone=12.0, address=16.4)


def test_two_fields_but_none_distinct_do_not_pass() -> None:
    """Twins without an ID: one birth date and one home, given names one character apart."""
    assert not holds(name=4.5, birth_date=9.2, mobile=16.5, address=16.4)
    assert holds(name=4.5, birth_date=9.2, id=16.3)  # the ID tells them apart: passes


def test_a_strong_disagreement_vetoes_a_merge_on_two_fields() -> None:
    """A head office and its branch, neither with a code: one name, one building
    and landline; the legal representative (the branch's person in charge) differs."""
    org = Guard(min_weight=6, min_fields=2, distinct=("org_core", "org_code"),
                shared=("org_region", "phone", "address", "legal_rep"))
    base = {"org_core": 12.4, "org_region": 7.7, "phone": 12.6, "address": 12.4}
    assert holds(org, **base, legal_rep=11.9)
    assert not holds(org, **base, legal_rep=-6.25)
    assert holds(org, **base, legal_rep=-5.9)  # above -veto_weight


def test_three_independent_fields_overrule_one_disagreement() -> None:
    """FEBRL's duplicates: another name, the same SSN, birth date and address."""
    assert holds(name=-6.3, id=13.4, birth_date=12.9, address=13.6)
    assert not holds(name=-6.3, id=13.4, address=13.6)
    never = Guard(min_weight=6, min_fields=2, distinct=("name", "id"),
                  shared=("address",), overrule_fields=0)
    assert not holds(never, name=-6.3, id=13.4, birth_date=12.9, address=13.6)


def test_the_term_frequency_adjustment_counts() -> None:
    """Two 张伟: the name's weight with its term-frequency adjustment is what counts."""
    table = pa.table({"mw_name": [13.3], "mw_tf_adj_name": [-8.0], "mw_mobile": [16.5]})
    assert field_weights(table)["name"] == pytest.approx(5.3)
    assert not guard_holds(table, GUARD)[0]


def test_null_weights_are_no_evidence() -> None:
    table = pa.table({"mw_name": pa.array([None, 13.0], pa.float64()),
                      "mw_id": pa.array([16.0, None], pa.float64()),
                      "mw_birth_date": pa.array([9.0, 9.0], pa.float64())})
    assert guard_holds(table, GUARD).tolist() == [True, True]


def test_no_guard_admits_everything() -> None:
    assert holds(None, name=-20.0)


def test_configured_guards() -> None:
    config = load_engine_config()
    assert config.person.guard is not None and "name" in config.person.guard.distinct
    assert config.organisation.guard is not None
    assert "org_core" in config.organisation.guard.distinct


# --- hand-made pairs, scored by a model trained on the sample -------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    cfg: EngineConfig = replace(load_engine_config(), model_dir=tmp_path_factory.mktemp("m"))
    train_files([SAMPLE], config=cfg)
    return load_model(model_path(cfg.model_dir, "P"))


HOME = "北京市朝阳区建国路88号3号楼2单元501"
MOBILE = "13800138000"
ID_ZH = "110105197510210031"     # 张伟, 1975-10-21, M
ID_ZH_SON = "110105200105030013"  # 2001-05-03, M
ID_TWIN = "110105200105030056"   # his twin brother


def _scored(model: TrainedModel, left: Record, right: Record) -> pa.Table:
    """The pair scored by ``model``, among 30,000 other records with values of
    their own, so that the pair's values get a term frequency as in real data."""
    db = DuckDBBackend(threads=1)
    db.con.register("pair_std", pa.table({c: pa.array([left.get(c), right.get(c)], pa.string())
                                          for c in OUTPUT_COLUMNS}))
    fill = {"source_system": "'CORE'", "source_customer_id": "'X' || i", "customer_type": "'P'",
            "name": "'x' || i", "name_plain": "'x' || i", "name_pinyin": "'x' || i",
            "mobile": "'139' || lpad(CAST(i AS VARCHAR), 8, '0')", "address": "'addr' || i"}
    others = ", ".join(f"{fill.get(c, 'NULL')}::VARCHAR AS {c}" for c in OUTPUT_COLUMNS)
    db.create_table("hand_std", f"SELECT * FROM pair_std UNION ALL "
                                f"SELECT {others} FROM range(30000) t(i)")
    db.create_table("hand", person_features_sql("hand_std"))
    splink = copy.deepcopy(model.splink)
    splink["blocking_rules_to_generate_predictions"] = [{
        "blocking_rule": "l.source_customer_id IN ('A', 'B') "
                         "AND r.source_customer_id IN ('A', 'B')", "sql_dialect": "duckdb"}]
    return predict_pairs(db, "hand", replace(model, splink=splink), 0.0).as_pyarrow_table()


def _p(key: str, name: str, **kw: str | None) -> Record:
    return person(key, name, address=HOME, mobile=MOBILE, **kw)  # type: ignore[arg-type]


DIFFERENT = [
    ("household: father and son", _p("A", "张伟", rid=ID_ZH, birth_date="1975-10-21"),
     _p("B", "张子豪", birth_date="2001-05-03")),
    ("twins, one without an ID", _p("A", "张子豪", rid=ID_ZH_SON, birth_date="2001-05-03"),
     _p("B", "张子杰", birth_date="2001-05-03")),
    ("twins, neither with an ID", _p("A", "张子豪", birth_date="2001-05-03", gender="M"),
     _p("B", "张子杰", birth_date="2001-05-03", gender="M")),
    ("placeholder names, one mobile and home", _p("A", "张先生"),
     _p("B", "张先生", system="TELE")),
]

SAME = [
    ("homophone typo, same mobile and home", _p("A", "张子豪", birth_date="2001-05-03"),
     _p("B", "张子毫", birth_date="2001-05-03")),
    ("look-alike typo, same ID and birth date",
     person("A", "王己明", rid=ID_TWIN, birth_date="2001-05-03"),
     person("B", "王已明", bad_rid=ID_TWIN[:-1] + "7", birth_date="2001-05-03")),
    ("same name and mobile, nothing else", person("A", "欧阳娜娜", mobile=MOBILE),
     person("B", "欧阳娜娜", mobile=MOBILE, system="TELE")),
]


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in DIFFERENT],
                         ids=[c[0] for c in DIFFERENT])
def test_households_and_twins_never_pass(model: TrainedModel, left: Record,
                                         right: Record) -> None:
    pairs = _scored(model, left, right)
    assert pairs.num_rows == 1
    assert not guard_holds(pairs, load_engine_config().person.guard)[0]


@pytest.mark.parametrize(("left", "right"), [c[1:] for c in SAME], ids=[c[0] for c in SAME])
def test_duplicates_with_a_typo_pass(model: TrainedModel, left: Record, right: Record) -> None:
    pairs = _scored(model, left, right)
    assert guard_holds(pairs, load_engine_config().person.guard)[0]
    assert pairs.column("match_probability")[0].as_py() >= 0.999


def test_twins_share_enough_to_score_high(model: TrainedModel) -> None:
    """What the guard is for: the model alone would merge twins without an ID."""
    _, left, right = DIFFERENT[2]
    assert _scored(model, left, right).column("match_probability")[0].as_py() >= 0.999



