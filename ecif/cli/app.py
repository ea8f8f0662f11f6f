"""The web app and API (``serve``), and ``demo``: the sample through two nights,
then the app on the demo store."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import click

from ecif.cli.common import command_errors, engine_config
from ecif.settings import load_settings, sample_dir


def register(main: click.Group) -> None:
    for command in (serve, demo):
        main.add_command(command)


_host = click.option("--host", default="127.0.0.1", show_default=True)
_port = click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
                     help="TCP port, 1-65535.")


@click.command()
@_host
@_port
@click.option("--server", type=click.Choice(["waitress", "gunicorn"]), default="waitress",
              show_default=True, help="WSGI server: waitress (one process, threads) or "
              "gunicorn (worker processes forked from one loaded app; POSIX).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="gunicorn: worker processes (about one per core).")
@click.option("--threads", default=None, type=click.IntRange(1, 256),
              help="Threads per process [waitress: 8; gunicorn: 1, a sync worker; more "
              "makes gthread workers with keep-alive].")
@command_errors
def serve(host: str, port: int, server: str, workers: int, threads: int | None) -> None:
    """Serve the review web app and the JSON API."""
    _serve(load_settings().database_url, host, port, threads or 8, server=server,
           workers=workers, gunicorn_threads=threads or 1)


def _serve(database_url: str, host: str, port: int, threads: int, *, server: str = "waitress",
           workers: int = 2, gunicorn_threads: int = 1) -> None:
    from ecif.serving import serve_gunicorn, serve_waitress, warm_up
    from review_app import create_app

    # the API's call log (key id, route, status, latency, decision) is on whatever -v says
    logging.getLogger("ecif.api").setLevel(logging.INFO)
    per_process = gunicorn_threads if server == "gunicorn" else threads
    # a request can hold two connections at once (its read and a write transaction)
    app = create_app({"ECIF_DATABASE_URL": database_url, "ECIF_POOL_SIZE": 2 * per_process})
    warm_up(app)
    if server == "gunicorn":
        click.echo(f"ECIF serving on http://{host}:{port}/ (gunicorn, {workers} workers x "
                   f"{gunicorn_threads} threads; Ctrl-C stops)")
        serve_gunicorn(app, host, port, workers, gunicorn_threads)
    else:
        click.echo(f"ECIF serving on http://{host}:{port}/ (Ctrl-C stops)")
        serve_waitress(app, host, port, threads)


@click.command()
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Serve the web app and API on the demo store after the batch.")
@_host
@_port
@command_errors
def demo(serve_after: bool, host: str, port: int) -> None:
    """Run the sample through ingest and the nightly batch, two nights, and show what
    happened: customers, merges, customer-number changes, open review tasks, and the
    accuracy against the sample's truth; then serve the app on the demo store. The
    demo store is <data dir>/out/demo.db (made afresh); exports go to <data dir>/out/."""
    import pandas as pd

    from ecif.batch import run_batch
    from ecif.exports import export_changes, export_links, export_tasks
    from ecif.ingest import ingest_files
    from matching.engine.evaluate import evaluate_by_type
    from models.db import init_db, make_engine

    settings = load_settings()
    out_dir = settings.data_dir / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    db_file = out_dir / "demo.db"
    for stale in out_dir.glob("demo.db*"):
        stale.unlink()
    url = f"sqlite:///{db_file}"
    engine = make_engine(url)
    init_db(engine)
    config = engine_config()
    nights = sorted((sample_dir(settings) / "nights").glob("day_*.csv"))
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
    _demo_accounts(engine)
    _demo_api_key(engine, host, port)
    engine.dispose()
    click.echo(f"store {db_file}; links, tasks and changes CSV in {out_dir}")
    if serve_after:
        _serve(url, host, port, threads=8)


#: The demo accounts (contract §5): each logs in with password ``demo-<name>``.
DEMO_USERS = (("steward1", "steward"), ("approver1", "approver"), ("viewer1", "viewer"),
              ("admin1", "admin"))


def _demo_accounts(engine: Any) -> None:
    """steward1, approver1, viewer1, admin1 with password demo-<name> (demo store only)."""
    from ecif.services.base import Actor, unit_of_work
    from ecif.services.users import create_user

    demo_admin = Actor("demo", "admin", system=True)
    with unit_of_work(engine, "demo accounts") as conn:
        for name, role in DEMO_USERS:
            create_user(conn, name, role, f"demo-{name}", actor=demo_admin)
    click.echo("demo accounts (password demo-<name>): "
               + ", ".join(f"{name} ({role})" for name, role in DEMO_USERS))


def _demo_api_key(engine: Any, host: str, port: int) -> None:
    """An API key with every scope (printed once) and a curl example of match-check."""
    from ecif.services.apikeys import create_key
    from ecif.services.base import Actor, unit_of_work

    with unit_of_work(engine, "demo API key") as conn:
        new = create_key(conn, "demo", actor=Actor("demo", "admin", system=True))
    body = ('{"customer_type": "P", "name": "臧秀英", "birth_date": "1974-07-01", '
            '"id_type": "RESIDENT_ID", "id_number": "610324197407011565"}')
    click.echo(f"demo API key (scopes {','.join(new.scopes)}): {new.key}")
    click.echo(f"  curl -s -X POST http://{host}:{port}/api/v1/match-check "
               f"-H 'X-API-Key: {new.key}' -H 'Content-Type: application/json' -d '{body}'")


def _types(engine: Any, keys: Any) -> Any:
    import pandas as pd

    from ecif.bulk import read_frame

    with engine.connect() as conn:
        t = read_frame(conn, "SELECT record_key, customer_type FROM source_record")
    return pd.Series(t["customer_type"].to_numpy(), index=t["record_key"]).reindex(keys)

