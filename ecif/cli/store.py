"""Commands on the store: init, ingest, batch, export, model."""

from __future__ import annotations

import time
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
from matching.exceptions import BadInput


def register(main: click.Group) -> None:
    for command in (init, ingest, batch, export, model):
        main.add_command(command)


@click.command()
@command_errors
def init() -> None:
    """Create or upgrade the database schema (ECIF_DATABASE_URL)."""
    from models.db import init_db

    with store_engine() as engine:
        revision = init_db(engine)
        click.echo(f"database {engine.url.render_as_string()} at schema revision {revision}")


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--encoding", default="utf-8", show_default=True,
              help="CSV encoding: utf-8 (with or without BOM) or gbk.")
@click.option("--from-db", "from_db", default=None,
              help="Pull from a source database (SQLAlchemy URL) instead of files.")
@click.option("--table", default=None, help="With --from-db: the table to pull from.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes (default: every core).")
@command_errors
def ingest(files: tuple[Path, ...], encoding: str, from_db: str | None, table: str | None,
           workers: int | None) -> None:
    """Load source records; rows failing admission go to the exceptions table."""
    from ecif.ingest import ingest_database, ingest_files
    from ecif.progress import ProgressDisplay

    settings = load_settings()
    started = time.perf_counter()
    if from_db is not None and (files or not table):
        raise BadInput("--from-db needs --table and no FILE arguments")
    if from_db is None and not files:
        raise BadInput("no FILE given (or use --from-db URL --table T)")
    display = ProgressDisplay()
    with store_engine(settings.database_url) as engine:
        try:
            if from_db is not None:
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


@click.command()
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes (default: every core).")
@click.option("--model-dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Model files to store when the store has no model yet "
              "(instead of training on its records).")
@engine_options
@command_errors
def batch(workers: int | None, model_dir: Path | None, engine_name: str | None,
          spark_master: str | None) -> None:
    """The nightly run over everything ingested since the last run; resumes a crashed run.
    --engine spark runs the match stage on Spark (docs/spark.md)."""
    from ecif.batch import run_batch

    settings = load_settings()
    config = engine_config()
    spark = spark_choice(engine_name, spark_master)
    with store_engine(settings.database_url) as engine:
        if model_dir is not None:
            _seed_models(engine, model_dir)
        summary = run_batch(engine, config, config_dir=settings.config_dir,
                            workers=workers or settings.workers,
                            progress=lambda m: click.echo(m, err=True), spark=spark)
    c = summary.counts
    resumed = f" (resumed after {summary.resumed_from})" if summary.resumed_from else ""
    click.echo(f"batch run {summary.run_id}{resumed}: {c.get('match.records_in_scope', 0)} "
               f"records in scope; {c.get('merge.customers_created', 0)} customers created, "
               f"{c.get('merge.merged_away', 0)} merged away, {c.get('merge.links_written', 0)} "
               f"links written; tasks {c.get('tasks.opened', 0)} opened, "
               f"{c.get('tasks.refreshed', 0)} refreshed, {c.get('tasks.closed', 0)} closed; "
               f"{c.get('changes.changes', 0)} customer-number changes")
    click.echo("timings: " + ", ".join(f"{k} {v:.1f}s" for k, v in summary.timings.items()))


def _seed_models(engine: object, model_dir: Path) -> None:
    """Store the model files of ``model_dir`` for the types the store has no model of."""
    from ecif.services.base import BATCH, unit_of_work
    from ecif.services.model_registry import active_models, import_file
    from matching.engine.model import model_path
    from models.db import require_current_schema

    require_current_schema(engine)  # type: ignore[arg-type]
    with unit_of_work(engine, "storing model files") as conn:  # type: ignore[arg-type]
        have = active_models(conn)
        for ctype in ("P", "G"):
            path = model_path(model_dir, ctype)
            if ctype not in have and path.exists():
                saved = import_file(conn, path, actor=BATCH)
                click.echo(f"stored model {saved.version} from {path}", err=True)


_out = click.option("--out", "out", required=True,
                    help="CSV file to write (a device such as /dev/stdout is written in place).")


def _out_path(value: str) -> Path:
    if not value.strip():
        raise BadInput("--out: an empty path names no file", {"out": "empty"})
    return Path(value)


@click.group()
def export() -> None:
    """Write links, open tasks, customer-number changes or the audit log as CSV."""


@export.command("links")
@_out
@command_errors
def export_links_cmd(out: str) -> None:
    """One row per source record: source_system,source_customer_id,customer_no,link_type."""
    path = _out_path(out)
    from ecif.exports import export_links

    with store_engine() as engine:
        click.echo(f"{export_links(engine, path)} links -> {out}", err=_is_stdout(path))


@export.command("tasks")
@_out
@command_errors
def export_tasks_cmd(out: str) -> None:
    """One row per record in an open review task."""
    path = _out_path(out)
    from ecif.exports import export_tasks

    with store_engine() as engine:
        click.echo(f"{export_tasks(engine, path)} task records -> {out}", err=_is_stdout(path))


_since = click.option("--since", required=True,
                      help="ISO 8601 time (UTC unless it has an offset).")


@export.command("changes")
@_since
@_out
@command_errors
def export_changes_cmd(since: str, out: str) -> None:
    """Customer-number changes (merged_into / split_from) since a time."""
    path = _out_path(out)
    from ecif.exports import export_changes, parse_since

    when = parse_since(since)
    with store_engine() as engine:
        click.echo(f"{export_changes(engine, path, when)} changes -> {out}", err=_is_stdout(path))


@export.command("audit")
@_since
@_out
@command_errors
def export_audit_cmd(since: str, out: str) -> None:
    """The audit log (who, when, what, before, after) since a time."""
    path = _out_path(out)
    from ecif.exports import export_audit, parse_since

    when = parse_since(since)
    with store_engine() as engine:
        click.echo(f"{export_audit(engine, path, when)} audit rows -> {out}", err=_is_stdout(path))


def _is_stdout(out: Path) -> bool:
    return str(out) in ("/dev/stdout", "-")


@click.group()
def model() -> None:
    """The store's trained models: list versions, pin one, store a model file."""


@model.command("list")
@command_errors
def model_list() -> None:
    """Every stored version, newest first; * marks the active ones."""
    from ecif.services.model_registry import list_versions

    with store_engine() as engine, engine.connect() as conn:
        versions = list_versions(conn)
    if versions.empty:
        click.echo("no models stored yet: the first `ecif batch` (or `ecif train`) trains them")
        return
    for row in versions.itertuples(index=False):
        mark = "*" if row.active else " "
        pin = " pinned" if row.pinned else ""
        click.echo(f"{mark} {row.version}  {row.customer_type}  trained "
                   f"{row.trained_at:%Y-%m-%d %H:%M} on {row.records} records by "
                   f"{row.created_by}{pin}")


@model.command("use")
@click.argument("version")
@command_errors
def model_use(version: str) -> None:
    """Pin VERSION: the batch and the API score with it until another is pinned."""
    from ecif.services.base import BATCH, unit_of_work
    from ecif.services.model_registry import use_version

    with store_engine() as engine, unit_of_work(engine, "pinning a model") as conn:
        ctype = use_version(conn, version, actor=BATCH)
    click.echo(f"model {version} pinned for customer type {ctype}")


@model.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--activate/--no-activate", default=True, show_default=True)
@command_errors
def model_import(file: Path, activate: bool) -> None:
    """Store a model file (from `ecif train FILE...`) as a version of this store."""
    from ecif.services.base import BATCH, unit_of_work
    from ecif.services.model_registry import import_file

    with store_engine() as engine, unit_of_work(engine, "storing a model") as conn:
        saved = import_file(conn, file, actor=BATCH, activate=activate)
    click.echo(f"stored model {saved.version}" + (" (active)" if saved.activated else ""))
