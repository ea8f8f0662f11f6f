"""Training on whatever fields a store holds (matching/engine/training.py).

The Chinese sample, the ``latin-noid`` profile (no ID, mobile or e-mail) and
FEBRL each get the rules their fields support; data that supports none gets
a TrainingError naming what was tried, never Splink's ``math domain error``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from ecif.cli import main
from matching.engine.config import EngineConfig, load_engine_config
from matching.engine.model import load_model, model_path
from matching.engine.workflow import evaluate_result, match_files, train_files
from matching.exceptions import TrainingError
from matching.generator.latin import generate_latin
from tests.engine.test_run import SAMPLE


@pytest.fixture
def config(tmp_path: Path) -> EngineConfig:
    return replace(load_engine_config(), model_dir=tmp_path / "models")


@pytest.fixture(scope="module")
def latin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("latin")
    generate_latin(out, records=4000, seed=2)
    return out


def _used(config: EngineConfig, kind: str, part: str) -> list[tuple[str, ...]]:
    plan = load_model(model_path(config.model_dir, kind)).plan
    return [tuple(r["columns"]) for r in plan[part] if r["used"]]


def test_chinese_sample_trains_on_ids_and_mobiles(config: EngineConfig) -> None:
    train_files([SAMPLE], config=config)
    assert ("resident_id",) in _used(config, "P", "prior_rules")
    assert _used(config, "P", "em_blocks") == [("name_pinyin", "birth_date"), ("id_cleaned",)]
    blocking = _used(config, "P", "blocking")
    assert ("id_cleaned",) in blocking and ("mobile",) in blocking
    assert ("address_number", "address_last") not in blocking  # no Latin address in the sample


def test_data_without_ids_or_phones_trains_on_what_it_holds(config: EngineConfig,
                                                            latin: Path) -> None:
    """The crash of the issue: no ID, mobile or e-mail; the prior comes from the
    name, birth date and address instead, and matching works."""
    raw = pd.read_csv(latin / "day_001.csv", dtype=str, keep_default_na=False)
    assert (raw[["id_number", "mobile", "email", "phone"]] == "").all().all()
    train_files([latin / "day_001.csv"], config=config)
    assert _used(config, "P", "prior_rules") == [("name_plain", "birth_date", "address")]
    em = _used(config, "P", "em_blocks")
    assert ("id_cleaned",) not in em and ("mobile",) not in em and len(em) >= 2
    assert ("id_cleaned",) not in _used(config, "P", "blocking")
    model = load_model(model_path(config.model_dir, "P"))
    assert 0 < model.calibration["suspect"] <= 1
    assert 0.5 < model.calibration["blocking_recall"] <= 1
    assert model.plan["not_estimated"] == []
    report = evaluate_result(match_files([latin / "day_001.csv"], config=config),
                             pd.read_csv(latin / "truth.csv", dtype=str))
    assert report.auto["P"].precision >= 0.99
    assert report.reviewed["P"].recall >= 0.9


def test_too_little_to_train_on_is_a_clear_error(config: EngineConfig, tmp_path: Path) -> None:
    """Records that share nothing: no rule finds a pair."""
    rows = [{"source_system": "WEB", "source_customer_id": f"W{i}", "customer_type": "P",
             "name": f"Person {chr(97 + i % 26)}{chr(97 + i // 26)}"} for i in range(300)]
    path = tmp_path / "lonely.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    with pytest.raises(TrainingError, match="no deterministic rule finds a pair") as err:
        train_files([path], config=config)
    assert "name_plain" in str(err.value) and "fields held" in str(err.value)


def test_cli_train_reports_rules_counts_and_recall(tmp_path: Path, latin: Path) -> None:
    result = CliRunner().invoke(main, ["train", str(latin / "day_001.csv"),
                                       "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "prior rules: name_plain+birth_date+address (" in out
    assert "estimated blocking recall" in out and "calibrated suspect threshold" in out
    assert "blocking rules:" in out and "pairs)" in out
    saved = json.loads((tmp_path / "m" / "person.json").read_text(encoding="utf-8"))
    assert saved["ecif_model"]["calibration"]["candidate_pairs"] > 0


def test_cli_eval_on_data_with_nothing_to_learn_from_is_one_line(tmp_path: Path) -> None:
    rows = [{"source_system": "WEB", "source_customer_id": f"W{i}", "customer_type": "P",
             "name": f"Person {chr(97 + i % 26)}{chr(97 + i // 26)}"} for i in range(300)]
    path = tmp_path / "lonely.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    truth = tmp_path / "truth.csv"
    pd.DataFrame({"source_system": "WEB", "source_customer_id": [r["source_customer_id"]
                  for r in rows], "entity_id": range(300)}).to_csv(truth, index=False)
    result = CliRunner().invoke(main, ["eval", str(path), "--truth", str(truth), "--train",
                                       "--model-dir", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "math domain error" not in result.output
    assert "cannot train the person model on 300 records" in result.output


def test_the_suspect_threshold_is_lowered_to_the_calibrated_one_never_raised() -> None:
    from matching.engine.model import TrainedModel

    base = TrainedModel("P", "person-x", "", 10, {})
    assert base.suspect(0.98) == 0.98
    assert replace(base, calibration={"suspect": 0.33}).suspect(0.98) == 0.33
    assert replace(base, calibration={"suspect": 0.995}).suspect(0.98) == 0.98


def test_calibration_puts_the_uncertain_band_in_tasks(config: EngineConfig,
                                                      latin: Path) -> None:
    """With the calibrated threshold, the tasks hold more of the true pairs the
    auto-merges miss than with the configured 0.98 (latin-noid, truth as oracle)."""
    files = [latin / "day_001.csv"]
    train_files(files, config=config)
    truth = pd.read_csv(latin / "truth.csv", dtype=str)
    model = load_model(model_path(config.model_dir, "P"))
    assert model.calibration["suspect"] < config.person.suspect
    calibrated = evaluate_result(match_files(files, config=config), truth)
    path = model_path(config.model_dir, "P")
    raw = json.loads(path.read_text(encoding="utf-8"))
    raw["ecif_model"]["calibration"] = {}
    path.write_text(json.dumps(raw), encoding="utf-8")
    fixed = evaluate_result(match_files(files, config=config), truth)
    assert calibrated.auto["P"].f1 == fixed.auto["P"].f1
    assert calibrated.reviewed["P"].recall > fixed.reviewed["P"].recall + 0.005


def test_a_small_store_trains_on_blocks_with_few_pairs(config: EngineConfig,
                                                       tmp_path: Path) -> None:
    """The demo's first night holds 90 organisations: no block reaches
    em_min_pairs, and training still works on the blocks that find pairs."""
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    small = tmp_path / "small.csv"
    sample[sample["customer_type"] == "G"].head(60).to_csv(small, index=False)
    models = train_files([small], config=config)
    plan = models["G"].plan
    used = [r for r in plan["em_blocks"] if r["used"]]
    assert used and all(0 < r["pairs"] < config.organisation.training.em_min_pairs
                        for r in used)
