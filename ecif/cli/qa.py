"""``ecif qa``: QA sampling (质量抽检) — open QA tasks from a stratified sample
of the machine's merged and apart pairs, and report precision per band."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ecif.cli.common import command_errors, engine_config, store_engine


def register(main: click.Group) -> None:
    main.add_command(qa)


@click.group()
def qa() -> None:
    """QA sampling: precision per probability band, with Wilson 95 % intervals."""


@qa.command("sample")
@click.option("--per-band", "per_band", type=click.IntRange(min=1), required=True,
              help="Pairs to sample from each stratum (type x merged/apart x band).")
@click.option("--seed", type=int, default=1, show_default=True)
@command_errors
def qa_sample(per_band: int, seed: int) -> None:
    """Open QA tasks for a stratified random sample of the scored pairs."""
    from ecif.services.base import BATCH
    from ecif.services.qa import open_sample

    with store_engine() as engine:
        got = open_sample(engine, engine_config(), per_band=per_band, actor=BATCH, seed=seed)
    click.echo(f"QA sample {got.sample_id}: {got.tasks} QA tasks opened")
    for s in got.strata:
        click.echo(f"  {s['stratum']:<26} {s['population']:>9,} pairs, {s['sampled']} sampled")


@qa.command("report")
@click.option("--sample", "sample_id", type=int, default=None,
              help="The QA sample (default: the newest).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to this file instead of standard output.")
@command_errors
def qa_report_cmd(sample_id: int | None, fmt: str, out: Path | None) -> None:
    """Precision (merged strata) and missed matches (apart strata) per band, with
    Wilson 95 % intervals, from the stewards' answers to the QA tasks."""
    from ecif.services.qa import qa_report

    with store_engine() as engine, engine.connect() as conn:
        report = qa_report(conn, sample_id)
    if fmt == "json":
        text = json.dumps(report.as_json(), ensure_ascii=False, indent=1)
    elif fmt == "csv":
        text = report.frame().to_csv(index=False)
    else:
        text = report.format()
    if out is None:
        click.echo(text)
    else:
        out.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        click.echo(f"QA report of sample {report.sample_id} -> {out}")
